import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerTarget, refreshIfDue } from '../../src/auth/broker.js';
import {
  FAR_FUTURE_MS,
  isPlaceholder,
  makePlaceholders,
  parseAgentFile,
  placeholderLogin,
  renderAgentFile,
} from '../../src/auth/formats.js';
import { accessTokenSource, readLogin, saveLogin, withLock, writeLogin } from '../../src/auth/store.js';
import { fakeToken, type OAuthProvider, startOAuthProvider } from '../helpers/oauth-server.js';

const claudeFile = (access: string, refresh: string, expiresAt: number) =>
  JSON.stringify({
    claudeAiOauth: {
      accessToken: access,
      refreshToken: refresh,
      expiresAt,
      scopes: ['user:inference'],
      subscriptionType: 'max',
    },
  });

const jwt = (claims: object) =>
  ['{"alg":"RS256"}', JSON.stringify(claims), 'sig']
    .map((s, i) => (i < 2 ? Buffer.from(s).toString('base64url') : s))
    .join('.');

describe('credentials file formats', () => {
  it('reads a Claude login and writes it back unchanged, or with placeholders', () => {
    const access = fakeToken('oat');
    const refresh = fakeToken('ort');
    const login = parseAgentFile('claude', claudeFile(access, refresh, 1234))!;
    expect(login).toMatchObject({ accessToken: access, refreshToken: refresh, expiresAt: 1234 });
    expect(JSON.parse(renderAgentFile(login))).toEqual(JSON.parse(claudeFile(access, refresh, 1234)));
    const ph = makePlaceholders(login);
    expect(ph.access).toMatch(/^sk-ant-oat01-corral/);
    expect(ph.access).toHaveLength(access.length);
    const file = renderAgentFile(placeholderLogin(login, ph));
    expect(file).not.toContain(access);
    expect(file).not.toContain(refresh);
    const back = parseAgentFile('claude', file)!;
    expect(back.expiresAt).toBe(FAR_FUTURE_MS);
    expect(back.extra).toEqual({ scopes: ['user:inference'], subscriptionType: 'max' });
    expect(isPlaceholder(back, ph)).toBe(true);
    expect(isPlaceholder(login, ph)).toBe(false);
  });

  it('reads a Codex login, its expiry from the access token, and hides the id token signature', () => {
    const access = jwt({ exp: 2_000_000_000 });
    const idToken = jwt({ email: 'a@example.test', exp: 2_000_000_000 });
    const text = JSON.stringify({
      OPENAI_API_KEY: null,
      tokens: { id_token: idToken, access_token: access, refresh_token: 'rt_x', account_id: 'acc' },
      last_refresh: '2026-01-01T00:00:00Z',
    });
    const login = parseAgentFile('codex', text)!;
    expect(login.expiresAt).toBe(2_000_000_000_000);
    expect(JSON.parse(renderAgentFile(login)).tokens).toEqual(JSON.parse(text).tokens);
    const ph = makePlaceholders(login);
    const shown = JSON.parse(renderAgentFile(placeholderLogin(login, ph)));
    expect(shown.tokens.access_token).toBe(ph.access);
    expect(shown.tokens.id_token).toMatch(/\.corral$/);
    expect(shown.tokens.account_id).toBe('acc');
    expect(Date.parse(shown.last_refresh)).toBeGreaterThan(Date.parse('2090-01-01'));
  });

  it('finds no login in files without one', () => {
    expect(parseAgentFile('claude', '{}')).toBeUndefined();
    expect(parseAgentFile('claude', 'not json')).toBeUndefined();
    expect(parseAgentFile('codex', JSON.stringify({ OPENAI_API_KEY: 'sk-x' }))).toBeUndefined();
  });
});

describe('login store and broker', () => {
  let provider: OAuthProvider | undefined;
  afterEach(async () => provider?.close());

  /** A login whose access token expires in `expiresInMs`; refreshed ones live an hour. */
  async function setup(expiresInMs: number) {
    provider = await startOAuthProvider({ lifetimeSeconds: 3600 });
    const dir = join(await mkdtemp(join(tmpdir(), 'corral-auth-')), 'auth', 'claude', 'default');
    const cur = provider.current();
    const login = parseAgentFile('claude', claudeFile(cur.access, cur.refresh, Date.now() + expiresInMs))!;
    await saveLogin(dir, login);
    const target: BrokerTarget = {
      label: 'claude/default',
      dir,
      tokenUrl: `http://127.0.0.1:${provider.tokenPort}/v1/oauth/token`,
      clientId: 'client-1',
      scopes: [],
    };
    return { dir, target };
  }

  it('writes the store 0600 in a 0700 folder', async () => {
    const { dir } = await setup(3_600_000);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'oauth.json'))).mode & 0o777).toBe(0o600);
  });

  it('refreshes once however many brokers race, never reusing a refresh token', async () => {
    const { dir, target } = await setup(30_000);
    const logs: string[] = [];
    const env = { log: (l: string) => logs.push(l) };
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => refreshIfDue(target, { aheadMs: 60_000 }, env)),
    );
    expect(outcomes.filter((o) => o === 'refreshed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'fresh')).toHaveLength(7);
    expect(provider!.refreshes).toBe(1);
    expect(provider!.reuse).toEqual([]);
    expect(provider!.bodies[0]).toMatchObject({
      grant_type: 'refresh_token',
      client_id: 'client-1',
      scope: 'user:inference',
    });
    const stored = await readLogin(dir);
    expect(stored?.accessToken).toBe(provider!.current().access);
    expect(stored?.refreshToken).toBe(provider!.current().refresh);
    // A fresh login is left alone.
    expect(await refreshIfDue(target, { aheadMs: 1000 }, env)).toBe('fresh');
    // Log lines name the profile, never a token.
    const all = logs.join('\n');
    expect(all).toContain('claude/default: refreshed');
    expect(all).not.toContain(provider!.current().access.slice(14));
  });

  it('reports a refused refresh without the token and keeps the login', async () => {
    const { dir, target } = await setup(30_000);
    const before = await readLogin(dir);
    await writeLogin(dir, { ...before!, refreshToken: fakeToken('ort') });
    const logs: string[] = [];
    expect(await refreshIfDue(target, { aheadMs: 60_000 }, { log: (l) => logs.push(l) })).toBe('failed');
    expect(logs.join()).toMatch(/refused the refresh \(400 invalid_grant\)/);
    expect((await readLogin(dir))?.accessToken).toBe(before!.accessToken);
  });

  it('hands the gateway the current token the moment the store changes', async () => {
    const { dir } = await setup(3_600_000);
    const source = accessTokenSource(dir);
    expect(source()).toBe(provider!.current().access);
    const login = (await readLogin(dir))!;
    const next = fakeToken('oat');
    await withLock(dir, () => writeLogin(dir, { ...login, accessToken: next }));
    expect(source()).toBe(next);
    expect(JSON.parse(await readFile(join(dir, 'placeholder.json'), 'utf8')).access).toMatch(
      /^sk-ant-oat01-corral/,
    );
  });
});
