/**
 * Real Claude Code on a brokered OAuth login. A login the agent writes inside the sandbox (as
 * `/login` would) is moved into corral's store when the run ends; the next run's sandbox holds
 * only placeholders, the gateway refreshes the (nearly expired) login and swaps the current access
 * token in, and the CLI completes a tool-using task against the scripted model behind a provider
 * that accepts only the current token.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { type ModelServer, parseScript, startModelServer } from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { type OAuthProvider, startOAuthProvider } from '../helpers/oauth-server.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`claude on a brokered login on ${kind}`, () => {
    let provider: OAuthProvider;
    let model: ModelServer;
    let env: NodeJS.ProcessEnv;
    let ws: string;
    let dir: string;
    const profile = `oauth${process.pid % 100000}`;
    const hostAlias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-oauth-e2e-')));
      ws = join(dir, 'ws');
      await mkdir(ws);
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      const leaf = await ca.issueLeaf('api.anthropic.com');
      const script = await parseScript(
        'turns:\n  - say: Writing.\n    run: echo brokered > result.txt\n  - text: Done.\n',
        'oauth e2e',
      );
      model = await startModelServer({ script });
      provider = await startOAuthProvider({
        lifetimeSeconds: 3600,
        // A request injected just before the refresh lands after it: as with real providers, the
        // token just replaced keeps working a moment.
        graceMs: 2000,
        tls: { cert: leaf.certPem, key: leaf.keyPem },
        host: '0.0.0.0',
        forward: model.url,
      });
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          `agents: { claude: { oauth_token_url: 'http://${hostAlias}:${provider.tokenPort}/v1/oauth/token' } }`,
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
    }, 300_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      await run(kind, ['volume', 'rm', '-f', `corral-claude-${profile}-home`]).catch(() => {});
      await provider?.close();
      await model?.close();
    });

    it('adopts a login made in the sandbox, then runs the real CLI on placeholders', async () => {
      const cur = provider.current();
      // Expiring within the hour: the gateway's broker refreshes it as soon as it starts.
      const creds = JSON.stringify({
        claudeAiOauth: {
          accessToken: cur.access,
          refreshToken: cur.refresh,
          expiresAt: Date.now() + 30 * 60_000,
          scopes: ['user:inference', 'user:profile'],
          subscriptionType: 'max',
        },
      });
      const login = await corral(
        [
          'shell',
          'claude',
          '--profile',
          profile,
          '-e',
          'CREDS',
          '--',
          'sh',
          '-c',
          'mkdir -p ~/.claude && printf %s "$CREDS" > ~/.claude/.credentials.json',
        ],
        { cwd: ws, env: { ...env, CREDS: creds } },
      );
      expect(login.code, login.stderr).toBe(0);
      expect(login.stderr).toContain("moved the claude login made in the sandbox into corral's login store");

      const r = await corral(
        [
          'run',
          'claude',
          '--profile',
          profile,
          '--yolo',
          '--prompt',
          'Write result.txt.',
          '-e',
          `ANTHROPIC_BASE_URL=https://api.anthropic.com:${provider.apiPort}`,
        ],
        { cwd: ws, env },
      );
      if (r.code !== 0) console.error(r.stdout, r.stderr, model.requests);
      expect(r.code).toBe(0);
      expect((await readFile(join(ws, 'result.txt'), 'utf8')).trim()).toBe('brokered');
      expect(provider.refreshes).toBe(1);
      expect(provider.reuse).toEqual([]);
      expect(provider.apiDenied).toBe(0);
      expect(provider.apiOk).toBeGreaterThanOrEqual(2);
      expect(model.requests.map((q) => q.step)).toEqual(expect.arrayContaining([0, 1]));

      // The volume now holds the placeholder file, and no token was printed anywhere.
      const look = await corral(
        ['shell', 'claude', '--profile', profile, '--', 'sh', '-c', 'cat ~/.claude/.credentials.json'],
        { cwd: ws, env },
      );
      expect(JSON.parse(look.stdout).claudeAiOauth.accessToken).toMatch(/^sk-ant-oat01-corral/);
      for (const t of provider.issued)
        expect(login.stderr + r.stdout + r.stderr + look.stdout).not.toContain(t);
    }, 300_000);
  });
}
