import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveAgent } from '../../src/agents/index.js';
import { diagnose } from '../../src/auth/doctor.js';
import { secretTool } from '../../src/auth/keyring.js';
import { loginFileState } from '../../src/auth/login-state.js';
import { authDir } from '../../src/auth/paths.js';
import { probeRequest } from '../../src/auth/probe.js';
import {
  chooseCredential,
  readStoredToken,
  removeStoredToken,
  storeToken,
  withStoredToken,
} from '../../src/auth/token.js';
import { pickToken } from '../../src/cli/commands/auth-token.js';

const claude = resolveAgent('claude');
const codex = resolveAgent('codex');
// Fake shapes, assembled at run time: nothing here is a real credential.
const fakeToken = () =>
  ['sk', 'ant', 'oat01', 'x'.repeat(20) + Math.random().toString(36).slice(2)].join('-');

let data: string;
beforeEach(async () => {
  data = await mkdtemp(join(tmpdir(), 'corral-auth-unit-'));
  vi.stubEnv('CORRAL_DATA_DIR', data);
});

describe('stored tokens', () => {
  it('are written 0600 in a 0700 folder, read back and removed', async () => {
    const token = fakeToken();
    expect(await storeToken('claude', 'work', token)).toBe('file');
    const dir = authDir('claude', 'work');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'token'))).mode & 0o777).toBe(0o600);
    expect((await readStoredToken('claude', 'work'))?.value).toBe(token);
    expect(await readStoredToken('claude', 'default')).toBeUndefined();
    expect(await removeStoredToken('claude', 'work')).toBe(true);
    expect(await readStoredToken('claude', 'work')).toBeUndefined();
    expect(await removeStoredToken('claude', 'work')).toBe(false);
  });

  it('go to the keyring over stdin when one answers, and fall back to the file when it fails', async () => {
    const vault = await mkdtemp(join(tmpdir(), 'corral-vault-'));
    const bin = join(vault, 'secret-tool');
    // A stand-in for libsecret's CLI: the same argv protocol, secrets in files named by account.
    await writeFile(
      bin,
      `#!/bin/sh\nop=$1; shift\nwhile [ $# -gt 0 ]; do [ "$1" = account ] && acct=$2; shift; done\nf="${vault}/$(echo "$acct" | tr / _)"\ncase $op in store) cat > "$f";; lookup) cat "$f";; clear) rm -f "$f";; esac\n`,
    );
    await chmod(bin, 0o755);
    const keyring = secretTool(bin);
    const token = fakeToken();
    expect(await storeToken('claude', 'default', token, keyring)).toBe('keyring');
    expect(await readFile(join(vault, 'claude_default'), 'utf8')).toBe(token);
    await expect(stat(join(authDir('claude', 'default'), 'token'))).rejects.toThrow();
    expect(await readStoredToken('claude', 'default', keyring)).toMatchObject({
      value: token,
      where: 'keyring',
    });
    expect(await removeStoredToken('claude', 'default', keyring)).toBe(true);
    await expect(stat(join(vault, 'claude_default'))).rejects.toThrow();

    const broken = secretTool(join(vault, 'missing-secret-tool'));
    expect(await storeToken('claude', 'default', token, broken)).toBe('file');
    expect((await readStoredToken('claude', 'default', broken))?.where).toBe('file');
  });
});

describe('credential precedence', () => {
  const token = { value: 'tok', where: 'file' as const, storedAt: new Date() };
  it('a key the user names beats the stored token, which beats the login', () => {
    expect(chooseCredential(claude, { ANTHROPIC_API_KEY: 'k' }, token)).toEqual({
      kind: 'env',
      name: 'ANTHROPIC_API_KEY',
    });
    expect(chooseCredential(claude, { CLAUDE_CODE_OAUTH_TOKEN: 'mine' }, token)).toMatchObject({
      kind: 'env',
    });
    expect(chooseCredential(claude, {}, token)).toMatchObject({
      kind: 'token',
      name: 'CLAUDE_CODE_OAUTH_TOKEN',
    });
    expect(chooseCredential(claude, {}, undefined)).toEqual({ kind: 'login' });
    // An agent without a token flow ignores a stray token.
    expect(chooseCredential(codex, {}, token)).toEqual({ kind: 'login' });
  });
  it('adds the token to the env only when it wins', () => {
    expect(withStoredToken(claude, { A: '1' }, token)).toEqual({ A: '1', CLAUDE_CODE_OAUTH_TOKEN: 'tok' });
    expect(withStoredToken(claude, { ANTHROPIC_API_KEY: 'k' }, token)).toEqual({ ANTHROPIC_API_KEY: 'k' });
  });
});

describe('the doctor', () => {
  it("builds the provider's request: header by key kind, base URL from env", () => {
    const oauth = probeRequest(claude, 'CLAUDE_CODE_OAUTH_TOKEN', 'T', {
      ANTHROPIC_BASE_URL: 'http://h:1/api',
    });
    expect(oauth).toEqual({
      url: 'http://h:1/api/v1/models',
      headers: {
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'oauth-2025-04-20',
        authorization: 'Bearer T',
      },
    });
    const key = probeRequest(claude, 'ANTHROPIC_API_KEY', 'K', {});
    expect(key?.url).toBe('https://api.anthropic.com/v1/models');
    expect(key?.headers['x-api-key']).toBe('K');
    expect(key?.headers['anthropic-beta']).toBeUndefined();
  });

  const base = { agent: claude, profile: 'default', loginState: async () => [] };
  it('exits 0 when the probe is accepted and 2 when rejected, never echoing the secret', async () => {
    const secret = fakeToken();
    const seen: string[] = [];
    const ok = await diagnose({
      ...base,
      env: { ANTHROPIC_API_KEY: secret },
      probe: async (r) => {
        seen.push(r.headers['x-api-key']!);
        return { ok: true, status: 200, detail: 'accepted' };
      },
    });
    expect(seen).toEqual([secret]);
    expect(ok).toMatchObject({ exitCode: 0, source: 'env', status: 'ok' });
    const bad = await diagnose({
      ...base,
      env: {},
      token: { value: secret, where: 'file', storedAt: new Date() },
      probe: async () => ({ ok: false, status: 401, detail: 'rejected' }),
    });
    expect(bad).toMatchObject({ exitCode: 2, source: 'token', status: 'broken' });
    expect(JSON.stringify([ok, bad])).not.toContain(secret);
  });

  it('judges a login file by its expiry and refresh token', async () => {
    const now = Date.now();
    const at = (state: object) =>
      diagnose({
        ...base,
        env: {},
        now,
        loginState: async () => [{ file: 'f', present: true, ...state }] as never,
      });
    expect((await diagnose({ ...base, env: {} })).exitCode).toBe(1);
    expect((await at({ expiresAt: now + 3_600_000, refreshable: true })).exitCode).toBe(0);
    expect((await at({ expiresAt: now - 1000, refreshable: true })).status).toBe('refreshable');
    expect((await at({ expiresAt: now - 1000, refreshable: false })).exitCode).toBe(2);
  });

  it("prefers a brokered login in corral's store to the (placeholder) files in the volume", async () => {
    const now = Date.now();
    let read = false;
    const r = await diagnose({
      ...base,
      env: {},
      now,
      brokered: { expiresAt: now - 60_000, refreshable: true },
      loginState: async () => {
        read = true;
        return [];
      },
    });
    expect(r).toMatchObject({ status: 'refreshable', exitCode: 1 });
    expect(r.credential).toContain('brokered');
    expect(r.detail).toContain('the gateway refreshes it');
    expect(read).toBe(false);
  });

  it('reads expiry facts from login files without printing tokens', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = ['e30', Buffer.from(JSON.stringify({ exp })).toString('base64url'), 'sig'].join('.');
    const secret = fakeToken();
    const facts = [
      loginFileState(
        'claude.json',
        JSON.stringify({
          claudeAiOauth: { accessToken: secret, refreshToken: secret, expiresAt: 1_700_000_000_000 },
        }),
      ),
      loginFileState('codex.json', JSON.stringify({ tokens: { access_token: jwt } })),
      loginFileState('absent.json', undefined),
    ];
    expect(JSON.stringify(facts)).not.toContain(secret);
    expect(facts).toEqual([
      { file: 'claude.json', present: true, refreshable: true, expiresAt: 1_700_000_000_000 },
      { file: 'codex.json', present: true, refreshable: false, expiresAt: exp * 1000 },
      { file: 'absent.json', present: false, refreshable: false },
    ]);
  });
});

describe('setup-token output', () => {
  it('picks the last token-shaped word out of coloured terminal output', () => {
    const token = fakeToken();
    const out = `\x1b[1mYour OAuth token (valid for 1 year):\x1b[0m\r\n\r\n\x1b[32m${token}\x1b[39m\r\nStore it safely.\r\n`;
    expect(pickToken(out, claude.setupToken!.pattern)).toBe(token);
    expect(pickToken('no token here', claude.setupToken!.pattern)).toBeUndefined();
  });
});
