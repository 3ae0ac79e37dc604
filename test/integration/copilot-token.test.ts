/**
 * Copilot's token exchange, kept in the gateway. A GitHub token passed with -e is a placeholder in
 * the sandbox; the sandbox asks the test-owned TLS upstream named api.github.com for a Copilot
 * token at /copilot_internal/v2/token (as Copilot CLI does), and gets an answer whose token is a
 * placeholder too (its fields kept, its signature replaced); sent to api.githubcopilot.com, that
 * placeholder arrives upstream as the real exchanged token. Attacked from inside a real sandbox:
 * neither the GitHub token nor the exchanged token's signature is in any env, command line or
 * readable file, and path variants of the exchange do not hand the real token out either. This
 * drives the exchange with curl: Copilot CLI 1.0.102 itself sends the GitHub token straight to
 * api.individual.githubcopilot.com (seen through the gateway once, by hand) and never exchanges it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

async function upstream(
  certs: Record<string, { certPem: string; keyPem: string }>,
  ghToken: string,
  exchanged: string,
) {
  const seen: { host: string; path: string; auth: string }[] = [];
  const contexts = new Map(
    Object.entries(certs).map(([name, c]) => [name, createSecureContext({ cert: c.certPem, key: c.keyPem })]),
  );
  const first = Object.values(certs)[0]!;
  const server: Server = createServer(
    { cert: first.certPem, key: first.keyPem, SNICallback: (name, cb) => cb(null, contexts.get(name)) },
    (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const auth = req.headers.authorization ?? '';
      seen.push({ host, path: req.url ?? '', auth });
      // A lenient server: case, doubled or trailing slashes and escapes make no difference.
      const path = decodeURIComponent((req.url ?? '').replace(/[?].*$/, ''))
        .toLowerCase()
        .replace(/\/{2,}/g, '/')
        .replace(/\/+$/, '');
      if (host === 'api.github.com' && path === '/copilot_internal/v2/token') {
        if (auth !== `token ${ghToken}`) return void res.writeHead(401).end('{"message":"Bad credentials"}');
        // Compressed whatever the client asked for: the gateway must still read it.
        const body = gzipSync(
          JSON.stringify({
            token: exchanged,
            expires_at: Math.floor(Date.now() / 1000) + 1800,
            refresh_in: 1500,
            endpoints: { api: 'https://api.individual.githubcopilot.com' },
          }),
        );
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(body);
      }
      const ok = host === 'api.individual.githubcopilot.com' && auth === `Bearer ${exchanged}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authenticated: ok }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

for (const kind of TEST_ENGINES) {
  describe(`Copilot's exchanged token stays in the gateway on ${kind}`, () => {
    const ghToken = `gho_${randomBytes(18).toString('hex')}`;
    const signature = randomBytes(32).toString('hex');
    const exchanged = `tid=${randomBytes(8).toString('hex')};exp=${Math.floor(Date.now() / 1000) + 1800};sku=free;proxy-ep=proxy.individual.githubcopilot.com;8kp=1:${signature}`;
    let up: Awaited<ReturnType<typeof upstream>>;
    let env: NodeJS.ProcessEnv;
    let ws: string;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      const dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-copilot-')));
      ws = join(dir, 'ws');
      await run('mkdir', ['-p', ws]);
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      up = await upstream(
        {
          'api.github.com': await ca.issueLeaf('api.github.com'),
          'api.individual.githubcopilot.com': await ca.issueLeaf('api.individual.githubcopilot.com'),
        },
        ghToken,
        exchanged,
      );
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          '  hosts: { api.github.com: host-gateway, api.individual.githubcopilot.com: host-gateway }',
          `  allow_host_ports: [${up.port}]`,
          `  allow: ['api.github.com:${up.port}', 'api.individual.githubcopilot.com:${up.port}']`,
          `  upstream_ca: ${ca.certPath}`,
          '',
        ].join('\n'),
      );
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        GH_TOKEN: ghToken,
      };
    }, 300_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      up?.close();
    });

    it('answers the exchange with a placeholder and injects the real token on the Copilot API', async () => {
      const gh = `https://api.github.com:${up.port}`;
      const script = [
        `curl -s --compressed ${gh}/copilot_internal/v2/token -H "Authorization: token $GH_TOKEN" > /tmp/t.json`,
        `sed -E 's/.*"token":"([^"]*)".*/\\1/' /tmp/t.json > /tmp/token`,
        // Its fields kept (the CLI reads exp and proxy-ep from them), its signature a placeholder.
        `grep -q 'proxy-ep=proxy.individual.githubcopilot.com;8kp=1:corral' /tmp/token && echo shaped`,
        `curl -s https://api.individual.githubcopilot.com:${up.port}/chat/completions -H "Authorization: Bearer $(cat /tmp/token)" -d '{}'; echo`,
        // Variants of the exchange's path: never the real token.
        `curl -s ${gh}/copilot_internal/v2/token/ -H "Authorization: token $GH_TOKEN" > /tmp/v1.json`,
        `curl -s "${gh}/Copilot_Internal//v2/%74oken?x=1" -H "Authorization: token $GH_TOKEN" > /tmp/v2.json`,
        `grep -c '"token":"tid=' /tmp/v1.json /tmp/v2.json | sed 's/.*://'`,
        `grep -rlF ${needle(ghToken)} ${needle(signature)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
      ].join('\n');
      const r = await corral(['shell', 'claude', '-e', 'GH_TOKEN', '--', 'sh', '-c', script], {
        cwd: ws,
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['shaped', '{"authenticated":true}', '1', '1', 'scanned']);
      // The upstream got the real GitHub token for the exchange and the real Copilot token after it.
      expect(up.seen.find((s) => s.path.includes('copilot_internal'))?.auth).toBe(`token ${ghToken}`);
      expect(up.seen.find((s) => s.path === '/chat/completions')?.auth).toBe(`Bearer ${exchanged}`);
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(ghToken);
        expect(text).not.toContain(signature);
      }
    }, 240_000);
  });
}
