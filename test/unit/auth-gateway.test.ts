import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAgentFile, refreshBody, refreshed } from '../../src/auth/formats.js';
import { readLogin, saveLogin, withLock, writeLogin } from '../../src/auth/store.js';
import { type BrokeredState, startBrokered } from '../../src/gateway/brokered.js';
import type { BrokeredLogin, GatewaySettings } from '../../src/gateway/settings.js';
import { fakeToken } from '../helpers/oauth-server.js';

const base = (brokered: BrokeredLogin[]): GatewaySettings => ({
  workspace: 'ws',
  policy: { rules: [], intercept: [], allowHostPorts: [], hostAddresses: [] },
  hostAliases: [],
  hosts: {},
  intercept: true,
  idleMinutes: 0,
  credentials: [],
  upstreamCa: [],
  brokered,
  // Far off: these tests drive the store themselves.
  refresh: { checkSeconds: 3600, aheadSeconds: 0 },
});

const login = (agent: string, profile: string, placeholder: string): BrokeredLogin => ({
  agent,
  profile,
  hosts: ['api.anthropic.com'],
  placeholder,
  tokenUrl: 'http://127.0.0.1:9/never',
  clientId: 'c',
  scopes: [],
});

const claude = (access: string) =>
  parseAgentFile(
    'claude',
    JSON.stringify({
      claudeAiOauth: {
        accessToken: access,
        refreshToken: fakeToken('ort'),
        expiresAt: Date.now() + 86400_000,
      },
    }),
  )!;

describe("the gateway's brokered logins", () => {
  let state: BrokeredState | undefined;
  afterEach(() => state?.stop());

  it('injects the current access token for the placeholder, following the store', async () => {
    const root = await mkdtemp(join(tmpdir(), 'corral-brokered-'));
    const dir = join(root, 'claude', 'work');
    const ph = await saveLogin(dir, claude(fakeToken('oat')));
    state = startBrokered(base([login('claude', 'work', ph.access)]), () => {}, root);
    const first = state.credentials();
    expect(first).toEqual([
      {
        host: 'api.anthropic.com',
        header: 'authorization',
        value: (await readLogin(dir))!.accessToken,
        placeholder: ph.access,
      },
    ]);
    const next = fakeToken('oat');
    await withLock(dir, async () => writeLogin(dir, { ...(await readLogin(dir))!, accessToken: next }));
    expect(state.credentials()[0]?.value).toBe(next);
  });

  it('injects nothing for a profile without a login, and ignores names that are not plain', async () => {
    const root = await mkdtemp(join(tmpdir(), 'corral-brokered-'));
    await saveLogin(join(root, 'claude', 'x'), claude(fakeToken('oat')));
    state = startBrokered(
      base([
        login('claude', 'missing', 'sk-ant-corralplaceholder'),
        login('claude', '../claude/x', 'sk-ant-corralother'),
      ]),
      () => {},
      root,
    );
    expect(state.credentials()).toEqual([]);
  });
});

describe('codex refresh', () => {
  it('asks with its client id and scopes, and keeps the id token it is given', () => {
    const payload = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const access = `h.${payload({ exp: 2_000_000_000 })}.s`;
    const text = JSON.stringify({
      tokens: { id_token: 'a.b.c', access_token: access, refresh_token: 'rt_1', account_id: 'acc' },
    });
    const l = parseAgentFile('codex', text)!;
    expect(
      JSON.parse(refreshBody({ clientId: 'app_x', scopes: ['openid', 'profile', 'email'] }, l).body),
    ).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt_1',
      client_id: 'app_x',
      scope: 'openid profile email',
    });
    const newAccess = `h.${payload({ exp: 2_100_000_000 })}.s`;
    const r = refreshed(l, { access_token: newAccess, id_token: 'x.y.z' }, 0)!;
    expect(r.accessToken).toBe(newAccess);
    expect(r.refreshToken).toBe('rt_1');
    expect(r.expiresAt).toBe(2_100_000_000_000);
    expect(r.extra.tokens as { id_token: string; account_id: string }).toMatchObject({
      id_token: 'x.y.z',
      account_id: 'acc',
    });
    expect(refreshed(l, { error: 'invalid_grant' }, 0)).toBeUndefined();
  });
});
