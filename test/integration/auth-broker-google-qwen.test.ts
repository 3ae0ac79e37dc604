/**
 * Gemini CLI's "Login with Google" and Qwen Code's Qwen OAuth, brokered like Claude's and Codex's:
 * the refresh token stays in corral's store on the host, the sandbox's `oauth_creds.json` holds
 * placeholders, and the gateway injects the current access token on the agent's API hosts and
 * refreshes it (with a form, as these CLIs do; Gemini's with the CLI's published client secret).
 * Against a scripted provider (test/helpers/oauth-server.ts) whose token endpoint rotates refresh
 * tokens and rejects reuse, and whose TLS API (named as the agent's real API host) accepts only the
 * current access token. From inside the real agent image, the placeholder authenticates, and no
 * issued token is anywhere a process can look.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { type OAuthProvider, startOAuthProvider } from '../helpers/oauth-server.js';

const run = promisify(execFile);
const LIFETIME_S = 12;
const AHEAD_S = 9;
const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

const CASES = [
  {
    agent: 'gemini',
    apiHost: 'cloudcode-pa.googleapis.com',
    file: '.gemini/oauth_creds.json',
    extra: { scope: 'https://www.googleapis.com/auth/cloud-platform', token_type: 'Bearer' },
    body: {
      grant_type: 'refresh_token',
      client_id: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
      client_secret: expect.stringMatching(/^GOCSPX-/),
      contentType: 'form',
    },
  },
  {
    agent: 'qwen',
    apiHost: 'portal.qwen.ai',
    file: '.qwen/oauth_creds.json',
    extra: { token_type: 'Bearer', resource_url: 'portal.qwen.ai' },
    body: { grant_type: 'refresh_token', client_id: 'f0304373b74a44d2b584a3fb70ca9e56', contentType: 'form' },
  },
] as const;

for (const kind of TEST_ENGINES) {
  for (const c of CASES) {
    describe(`brokered ${c.agent} OAuth on ${kind}`, () => {
      let provider: OAuthProvider;
      let env: NodeJS.ProcessEnv;
      let ws: string;
      const profile = `b${c.agent}${process.pid % 100000}`;
      const hostAlias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';

      beforeAll(async () => {
        const engine = await engineFor(kind);
        await agentImage(engine, c.agent);
        await gatewayImage(engine);
        const dir = await realpath(await mkdtemp(join(tmpdir(), `corral-auth-${c.agent}-`)));
        ws = join(dir, 'ws');
        await mkdir(ws);
        const ca = await loadOrCreateCa(join(dir, 'test-ca'));
        const leaf = await ca.issueLeaf(c.apiHost);
        provider = await startOAuthProvider({
          lifetimeSeconds: LIFETIME_S,
          graceMs: LIFETIME_S * 1000,
          tls: { cert: leaf.certPem, key: leaf.keyPem },
          host: '0.0.0.0',
        });
        await writeFile(
          join(dir, 'config.yaml'),
          [
            'network: gateway',
            `agents: { ${c.agent}: { oauth_token_url: 'http://${hostAlias}:${provider.tokenPort}/token' } }`,
            `auth: { refresh_check_seconds: 1, refresh_ahead_seconds: ${AHEAD_S} }`,
            'egress:',
            `  hosts: { ${c.apiHost}: host-gateway }`,
            `  allow_host_ports: [${provider.apiPort}]`,
            `  allow: ['${c.apiHost}:${provider.apiPort}']`,
            `  upstream_ca: ${ca.certPath}`,
            '',
          ].join('\n'),
        );
        env = {
          CORRAL_ENGINE: kind,
          CORRAL_CONFIG: join(dir, 'config.yaml'),
          CORRAL_DATA_DIR: join(dir, 'data'),
          CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        };
        // The user's login as the CLI wrote it, due for a refresh two seconds from now.
        const cur = provider.current();
        await writeFile(
          join(dir, 'oauth_creds.json'),
          JSON.stringify({
            access_token: cur.access,
            refresh_token: cur.refresh,
            expiry_date: Date.now() + (AHEAD_S + 2) * 1000,
            ...c.extra,
          }),
        );
        const imported = await corral(
          ['auth', 'import', c.agent, '--profile', profile, '--from', join(dir, 'oauth_creds.json')],
          { env },
        );
        expect(imported.code, imported.stderr).toBe(0);
      }, 600_000);

      afterAll(async () => {
        await corral(['clean'], { cwd: ws, env }).catch(() => {});
        await run(kind, ['volume', 'rm', '-f', `corral-${c.agent}-${profile}-home`]).catch(() => {});
        await provider?.close();
      });

      it('injects and refreshes the access token; the sandbox holds placeholders only', async () => {
        const rounds = 16;
        const script = [
          `tok=$(sed -n 's/.*"access_token": *"\\([^"]*\\)".*/\\1/p' ~/${c.file})`,
          `case "$tok" in *corral*) echo placeholder;; *) echo not-placeholder;; esac`,
          `grep -q '"refresh_token": *"[^"]*corral' ~/${c.file} && echo refresh-placeholder`,
          `for i in $(seq ${rounds}); do curl -s -o /dev/null -w '%{http_code}\\n' https://${c.apiHost}:${provider.apiPort}/v1/x -H "Authorization: Bearer $tok"; sleep 0.4; done`,
        ].join('\n');
        const r = await corral(
          ['shell', c.agent, '--no-join', '--profile', profile, '--', 'sh', '-c', script],
          { cwd: ws, env },
        );
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stdout.trim().split('\n');
        expect(lines.slice(0, 2)).toEqual(['placeholder', 'refresh-placeholder']);
        expect(lines.slice(2)).toEqual(Array(rounds).fill('200'));
        expect(provider.refreshes).toBeGreaterThanOrEqual(1);
        expect(provider.reuse).toEqual([]);
        expect(provider.apiDenied).toBe(0);
        expect(provider.bodies[0]).toMatchObject({ ...c.body, refresh_token: 'current' });
        const scan = await corral(
          [
            'shell',
            c.agent,
            '--no-join',
            '--profile',
            profile,
            '--',
            'sh',
            '-c',
            `grep -rlF ${provider.issued.map(needle).join(' ')} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
          ],
          { cwd: ws, env },
        );
        expect(scan.stdout.trim()).toBe('scanned');
        const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
        for (const t of provider.issued)
          expect(log.stdout + r.stdout + r.stderr + scan.stdout).not.toContain(t);
      }, 240_000);
    });
  }
}
