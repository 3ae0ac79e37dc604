/**
 * Long-lived tokens and the login doctor on real engines: `corral auth setup-token --stdin` keeps
 * the token on the host (0600), later runs get it as CLAUDE_CODE_OAUTH_TOKEN unless the user names
 * a key of their own, behind the gateway the sandbox holds only a placeholder, and `corral auth
 * doctor` probes a test-owned endpoint (exit 0 / 2) or judges the login files in the profile's
 * state (exit 1 / 2) — never printing a token.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyHomeVolumeName } from '../../src/workspace/identity.js';
import { type CliResult, corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const rand = (n: number) => randomBytes(n).toString('hex');
// A fake of the real shape, made at run time.
const fakeToken = () => ['sk', 'ant', 'oat01', rand(30)].join('-');

for (const kind of TEST_ENGINES) {
  describe(`auth tokens and doctor on ${kind}`, () => {
    const token = fakeToken();
    const profile = `t${rand(4)}`;
    const other = `u${rand(4)}`;
    const outputs: string[] = [];
    const seen: { auth?: string; beta?: string }[] = [];
    let ws: string;
    let home: string;
    let env: NodeJS.ProcessEnv;
    let server: Server;
    const run = async (args: string[], input?: string): Promise<CliResult> => {
      const r = await corral(args, { cwd: ws, env, ...(input !== undefined ? { input } : {}) });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    // What the sandbox sees (it prints the token on purpose, so these outputs are not leak-checked).
    const peek = (args: string[]) => corral(args, { cwd: ws, env });
    const sandboxToken = (...flags: string[]) =>
      peek([
        'shell',
        'claude',
        '--profile',
        profile,
        ...flags,
        '--',
        'sh',
        '-c',
        'printf "[%s]" "$CLAUDE_CODE_OAUTH_TOKEN"',
      ]);

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      // The provider, as the doctor sees it: accepts only this token, as an OAuth bearer.
      server = createServer((req, res) => {
        seen.push({ auth: req.headers.authorization, beta: req.headers['anthropic-beta'] as string });
        const ok = req.url === '/v1/models' && req.headers.authorization === `Bearer ${token}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end('{"data":[]}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-auth-ws-')));
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-auth-home-')));
      await writeFile(join(home, 'config.yaml'), `env:\n  ANTHROPIC_BASE_URL: http://127.0.0.1:${port}\n`);
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(home, 'config.yaml'),
        CORRAL_DATA_DIR: join(home, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        CORRAL_KEYRING: 'off',
      };
    });

    afterAll(async () => {
      server.close();
      const engine = await engineFor(kind);
      for (const p of [profile, other])
        await engine.removeVolume(legacyHomeVolumeName('claude', p)).catch(() => undefined);
      // Last: no output of any run in this file held the token, or 12 characters of its secret part.
      const all = outputs.join('\n');
      for (let i = 13; i + 12 <= token.length; i += 4) expect(all).not.toContain(token.slice(i, i + 12));
      await rm(ws, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    });

    it('setup-token --stdin stores the token 0600 and refuses what is not one', async () => {
      const bad = await run(
        ['auth', 'setup-token', 'claude', '--profile', profile, '--stdin'],
        'not-a-token\n',
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('not a Claude Code token');
      const r = await run(['auth', 'setup-token', 'claude', '--profile', profile, '--stdin'], `${token}\n`);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/stored sk-ant-oat01-…\w{4} \(\d+ characters\) for claude profile/);
      const file = join(home, 'data', 'auth', 'claude', profile, 'token');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const noTty = await run(['auth', 'setup-token', 'claude', '--profile', profile]);
      expect(noTty.code).toBe(1);
      expect(noTty.stderr).toContain('needs a terminal');
    });

    it('later runs get the token unless the user names a key; behind the gateway only a placeholder', async () => {
      expect((await sandboxToken('--network', 'open')).stdout).toContain(`[${token}]`);
      const named = await sandboxToken('--network', 'open', '-e', 'ANTHROPIC_API_KEY=key-of-my-own');
      expect(named.stdout).toContain('[]');
      const mine = await sandboxToken('--network', 'open', '-e', 'CLAUDE_CODE_OAUTH_TOKEN=mine-instead');
      expect(mine.stdout).toContain('[mine-instead]');
      const gated = await sandboxToken();
      expect(gated.code).toBe(0);
      const inside = /\[(.*)\]/.exec(gated.stdout)?.[1] ?? '';
      expect(inside).toMatch(/^sk-ant-oat01-corral/);
      expect(inside).not.toContain(token.slice(13, 25));
      // The other profile has no token.
      const elsewhere = await peek([
        'shell',
        'claude',
        '--profile',
        other,
        '--network',
        'open',
        '--',
        'sh',
        '-c',
        'printf "[%s]" "$CLAUDE_CODE_OAUTH_TOKEN"',
      ]);
      expect(elsewhere.stdout).toContain('[]');
    });

    it('doctor probes the stored token (exit 0) and says broken when the provider rejects (exit 2)', async () => {
      seen.length = 0;
      const ok = await run(['auth', 'doctor', 'claude', '--profile', profile, '--json']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ source: 'token', status: 'ok', exitCode: 0 });
      expect(seen).toEqual([{ auth: `Bearer ${token}`, beta: 'oauth-2025-04-20' }]);
      const rejected = await run([
        'auth',
        'doctor',
        'claude',
        '--profile',
        profile,
        '-e',
        'CLAUDE_CODE_OAUTH_TOKEN=stale',
      ]);
      expect(rejected.code).toBe(2);
      expect(rejected.stdout).toContain('CLAUDE_CODE_OAUTH_TOKEN from your environment/config');
      expect(rejected.stdout).toMatch(/broken: .* rejected it \(HTTP 401\)/);
    });

    it("doctor judges the login in the profile's state: missing 1, expired but refreshable 1, dead 2, valid 0", async () => {
      expect((await run(['auth', 'doctor', 'claude', '--profile', other])).code).toBe(1);
      const login = async (oauth: object) => {
        const json = JSON.stringify({ claudeAiOauth: oauth }).replace(/'/g, '');
        const w = await run([
          'shell',
          'claude',
          '--profile',
          other,
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          `mkdir -p ~/.claude && printf '%s' '${json}' > ~/.claude/.credentials.json`,
        ]);
        expect(w.code).toBe(0);
        return run(['auth', 'doctor', 'claude', '--profile', other, '--json']);
      };
      const hidden = rand(16);
      const expired = await login({
        accessToken: hidden,
        refreshToken: hidden,
        expiresAt: Date.now() - 3_600_000,
      });
      expect(JSON.parse(expired.stdout)).toMatchObject({ source: 'login', status: 'refreshable' });
      expect(expired.code).toBe(1);
      const dead = await login({ accessToken: hidden, expiresAt: Date.now() - 3_600_000 });
      expect(dead.code).toBe(2);
      const valid = await login({ accessToken: hidden, expiresAt: Date.now() + 7_200_000 });
      expect(valid.code).toBe(0);
      expect(JSON.parse(valid.stdout).detail).toMatch(/valid for another [12](\.\d)? h/);
      expect(expired.stdout + dead.stdout + valid.stdout).not.toContain(hidden);
    });
  });
}
