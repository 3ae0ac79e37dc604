/**
 * The refresh race (issue 7's centrepiece): several sandboxes in two workspaces (two gateways) on
 * one profile whose token is about to expire, against a scripted provider that rotates refresh
 * tokens, rejects any reuse, and whose API accepts only the current access token, or the one just
 * replaced until it expires (as real providers do; a request injected a moment before a rotation
 * may arrive after it, the more so on a busy machine). Tokens live 12 s and the sandboxes keep
 * asking for over twice that, so a gateway that did not follow the store would be refused. Every
 * request must authenticate, the provider must see no reuse, and no token may be found anywhere
 * inside a sandbox.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { type OAuthProvider, startOAuthProvider } from '../helpers/oauth-server.js';

const run = promisify(execFile);
// A token handed out lives at least AHEAD_S - 1 s more (refresh checks run every second), so a
// request may take up to ~7 s between injection and arrival: CI saw one take 7.1 s on a loaded
// machine and arrive after an 8 s/5 s token expired.
const LIFETIME_S = 12;
const AHEAD_S = 9;

/** Split a secret so the script that searches for it never contains it whole. */
const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

for (const kind of TEST_ENGINES) {
  describe(`brokered OAuth refresh on ${kind}`, () => {
    let provider: OAuthProvider;
    let env: NodeJS.ProcessEnv;
    let dir: string;
    const workspaces: string[] = [];
    const profile = `race${process.pid % 100000}`;
    const hostAlias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      // Built once up front: four runs starting together would each try to build it.
      await gatewayImage(engine);
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-auth-race-')));
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      const leaf = await ca.issueLeaf('api.anthropic.com');
      provider = await startOAuthProvider({
        lifetimeSeconds: LIFETIME_S,
        graceMs: LIFETIME_S * 1000,
        tls: { cert: leaf.certPem, key: leaf.keyPem },
        host: '0.0.0.0',
      });
      for (const n of [1, 2]) {
        const ws = join(dir, `ws${n}`);
        await mkdir(ws);
        workspaces.push(ws);
      }
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          `agents: { claude: { oauth_token_url: 'http://${hostAlias}:${provider.tokenPort}/v1/oauth/token' } }`,
          `auth: { refresh_check_seconds: 1, refresh_ahead_seconds: ${AHEAD_S} }`,
          'egress:',
          '  hosts: { api.anthropic.com: host-gateway }',
          `  allow_host_ports: [${provider.apiPort}]`,
          // A rule without a port covers 443 and 80 only; the test's API server listens elsewhere.
          `  allow: ['api.anthropic.com:${provider.apiPort}']`,
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
      // The user's login, about to expire: due for a refresh two seconds from now.
      const cur = provider.current();
      await writeFile(
        join(dir, 'credentials.json'),
        JSON.stringify({
          claudeAiOauth: {
            accessToken: cur.access,
            refreshToken: cur.refresh,
            expiresAt: Date.now() + (AHEAD_S + 2) * 1000,
            scopes: ['user:inference', 'user:profile'],
            subscriptionType: 'max',
          },
        }),
      );
      const imported = await corral(
        ['auth', 'import', 'claude', '--profile', profile, '--from', join(dir, 'credentials.json')],
        { env },
      );
      expect(imported.code, imported.stderr).toBe(0);
    }, 300_000);

    afterAll(async () => {
      for (const ws of workspaces) await corral(['clean'], { cwd: ws, env }).catch(() => {});
      await run(kind, ['volume', 'rm', '-f', `corral-claude-${profile}-home`]).catch(() => {});
      await provider?.close();
    });

    it('keeps every sandbox authenticated through several refreshes, with no refresh token used twice', async () => {
      const rounds = 66;
      const script = [
        // Read once: sandboxes starting at the same moment rewrite the (identical) placeholder file.
        `i=0; until tok=$(sed -n 's/.*"accessToken":"\\([^"]*\\)".*/\\1/p' ~/.claude/.credentials.json) && [ -n "$tok" ]; do i=$((i+1)); [ $i -gt 50 ] && exit 3; sleep 0.1; done`,
        'case "$tok" in sk-ant-oat01-corral*) echo placeholder;; *) echo not-placeholder;; esac',
        `for i in $(seq ${rounds}); do curl -s -o /dev/null -w '%{http_code}\\n' https://api.anthropic.com:${provider.apiPort}/v1/messages -H "Authorization: Bearer $tok"; sleep 0.4; done`,
      ].join('\n');
      const started = Date.now();
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          corral(['shell', 'claude', '--no-join', '--profile', profile, '--', 'sh', '-c', script], {
            cwd: workspaces[i % 2],
            env,
          }),
        ),
      );
      const errors: string[] = [];
      for (const ws of workspaces) {
        const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
        errors.push(
          ...log.stdout
            .split('\n')
            .filter((l) => l.includes('"decision":"error"') || /"status":[45]/.test(l)),
        );
      }
      expect(errors, errors.join('\n')).toEqual([]);
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stdout.trim().split('\n');
        expect(lines[0]).toBe('placeholder');
        expect(lines.slice(1)).toEqual(Array(rounds).fill('200'));
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `${kind}: ${provider.refreshes} refreshes in ${seconds.toFixed(0)} s, ${provider.apiOk} requests ok (${provider.apiLate} on the token just replaced)`,
      );
      expect(seconds).toBeGreaterThan(2 * LIFETIME_S);
      // A refresh every (lifetime - ahead) seconds or so while they ran.
      expect(provider.refreshes).toBeGreaterThanOrEqual(Math.floor(seconds / (LIFETIME_S - AHEAD_S + 1)) - 1);
      expect(provider.refreshes).toBeGreaterThanOrEqual(2);
      expect(provider.reuse).toEqual([]);
      expect(provider.apiDenied).toBe(0);
      expect(provider.apiOk).toBe(4 * rounds);
      expect(provider.bodies[0]).toMatchObject({
        grant_type: 'refresh_token',
        client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
        scope: 'user:inference user:profile',
      });
      // Neither gateway's audit log nor corral's own output carries a token.
      const all = results.map((r) => r.stdout + r.stderr).join('\n');
      for (const ws of workspaces) {
        const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
        expect(log.stdout).toContain('"host":"api.anthropic.com"');
        for (const t of provider.issued) expect(log.stdout + all).not.toContain(t);
      }
      const stored = JSON.parse(await readFile(join(dir, 'data/auth/claude', profile, 'oauth.json'), 'utf8'));
      expect(stored.accessToken).toBe(provider.current().access);
    }, 240_000);

    it('leaves no access or refresh token anywhere a sandbox can look', async () => {
      const r = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--profile',
          profile,
          '--',
          'sh',
          '-c',
          [
            'env | grep -ci bearer || true',
            `grep -rlF ${provider.issued.map(needle).join(' ')} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
            'grep -c corral ~/.claude/.credentials.json',
          ].join('; '),
        ],
        { cwd: workspaces[0], env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['0', 'scanned', '1']);
      for (const t of provider.issued) expect(r.stdout + r.stderr).not.toContain(t);
    }, 120_000);

    it('lists the brokered login and forgets it on logout', async () => {
      const list = await corral(['auth', 'list', '--json'], { env });
      const row = (
        JSON.parse(list.stdout) as { agent: string; profile: string; brokered: boolean; volume: boolean }[]
      ).find((x) => x.profile === profile);
      expect(row).toMatchObject({ agent: 'claude', brokered: true, volume: true });
      const out = await corral(['auth', 'logout', 'claude', '--profile', profile], { env });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toContain("removed corral's stored login and ~/.claude/.credentials.json");
      const after = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--profile',
          profile,
          '--',
          'sh',
          '-c',
          'ls ~/.claude/.credentials.json 2>&1 || true',
        ],
        {
          cwd: workspaces[0],
          env,
        },
      );
      expect(after.stdout).toMatch(/No such file/);
      const again = JSON.parse((await corral(['auth', 'list', '--json'], { env })).stdout) as {
        profile: string;
        brokered: boolean;
      }[];
      expect(again.find((x) => x.profile === profile)?.brokered).toBe(false);
    }, 120_000);
  });
}
