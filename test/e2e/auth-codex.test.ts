/**
 * Real Codex on a brokered ChatGPT login: the sandbox's ~/.codex/auth.json holds placeholders (a
 * JWT-shaped access token, an id token without its signature), the gateway swaps the real access
 * token in, and Codex completes a tool-using task against the scripted model behind a provider
 * that accepts only the real token. Codex reaches it through a model provider that uses the
 * ChatGPT login (`requires_openai_auth`), as its built-in one does for chatgpt.com.
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
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

for (const kind of TEST_ENGINES) {
  describe(`codex on a brokered login on ${kind}`, () => {
    let provider: OAuthProvider;
    let model: ModelServer;
    let env: NodeJS.ProcessEnv;
    let ws: string;
    let dir: string;
    const profile = `cx${process.pid % 100000}`;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'codex');
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-codex-oauth-')));
      ws = join(dir, 'ws');
      await mkdir(ws);
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      const leaf = await ca.issueLeaf('chatgpt.com');
      const script = await parseScript(
        'turns:\n  - say: Writing.\n    run: echo brokered-codex > result.txt\n  - text: Done.\n',
        'codex oauth e2e',
      );
      model = await startModelServer({ script });
      provider = await startOAuthProvider({
        lifetimeSeconds: 3600,
        tls: { cert: leaf.certPem, key: leaf.keyPem },
        host: '0.0.0.0',
        forward: model.url,
      });
      const providerConfig = `model_providers.cg={name="cg", base_url="https://chatgpt.com:${provider.apiPort}/backend-api/codex", wire_api="responses", requires_openai_auth=true}`;
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          'agents:',
          '  codex:',
          `    args: ['-c', 'model_provider="cg"', '-c', '${providerConfig}', '-c', 'model="gpt-5-codex"', '-c', 'features.plugins=false', '-c', 'analytics.enabled=false']`,
          'egress:',
          '  hosts: { chatgpt.com: host-gateway }',
          `  allow_host_ports: [${provider.apiPort}]`,
          // A rule without a port covers 443 and 80 only; the test's API server listens elsewhere.
          `  allow: ['chatgpt.com:${provider.apiPort}']`,
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
      const cur = provider.current();
      const claims = {
        email: 'user@example.test',
        'https://api.openai.com/auth': { chatgpt_plan_type: 'plus', chatgpt_account_id: 'acc-1' },
      };
      await writeFile(
        join(dir, 'auth.json'),
        JSON.stringify({
          OPENAI_API_KEY: null,
          tokens: {
            id_token: `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`,
            access_token: cur.access,
            refresh_token: cur.refresh,
            account_id: 'acc-1',
          },
          last_refresh: new Date().toISOString(),
        }),
      );
      const imp = await corral(
        ['auth', 'import', 'codex', '--profile', profile, '--from', join(dir, 'auth.json')],
        { env },
      );
      expect(imp.code, imp.stderr).toBe(0);
    }, 600_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      await run(kind, ['volume', 'rm', '-f', `corral-codex-${profile}-home`]).catch(() => {});
      await provider?.close();
      await model?.close();
    });

    it('runs the real CLI on placeholders, the gateway holding the token', async () => {
      const r = await corral(['run', 'codex', '--profile', profile, '--prompt', 'Write result.txt.'], {
        cwd: ws,
        env,
      });
      if (r.code !== 0) console.error(r.stdout, r.stderr, model.requests);
      expect(r.code).toBe(0);
      expect((await readFile(join(ws, 'result.txt'), 'utf8')).trim()).toBe('brokered-codex');
      expect(provider.apiDenied).toBe(0);
      expect(provider.apiOk).toBeGreaterThanOrEqual(2);
      expect(provider.refreshes).toBe(0);
      // It never tried to refresh by itself (its refresh token is a placeholder: that would fail).
      const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      expect(log.stdout).toContain('"host":"chatgpt.com"');
      expect(log.stdout).not.toContain('auth.openai.com');
      const look = await corral(
        ['shell', 'codex', '--profile', profile, '--', 'sh', '-c', 'cat ~/.codex/auth.json'],
        {
          cwd: ws,
          env,
        },
      );
      const file = JSON.parse(look.stdout) as { tokens: Record<string, string> };
      expect(file.tokens.id_token).toMatch(/\.corral$/);
      for (const t of provider.issued) expect(r.stdout + r.stderr + look.stdout).not.toContain(t);
    }, 300_000);
  });
}
