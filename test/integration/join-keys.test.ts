/**
 * A shell joining a running sandbox (`corral shell claude -e ANTHROPIC_API_KEY=… -e GH_TOKEN=…`)
 * gets placeholders, as a fresh run does, and the workspace's running gateway injects the real
 * values. Attacked from inside the real sandbox: the real values are in no process's env or command
 * line and in no file the sandbox can read, while requests to test-owned TLS upstreams named
 * api.anthropic.com and api.github.com arrive with the real values. With the gateway gone, a join
 * that brings a key is refused instead of passing it in.
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { gatewayName } from '../../src/gateway/container.js';
import { resolveWorkspace } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
/** Split a secret so the script that searches for it never contains it whole. */
const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

interface Seen {
  host: string;
  path: string;
  key: string;
}

/** A TLS upstream for each name; records the key each request carried. */
async function upstream(certs: Record<string, { certPem: string; keyPem: string }>) {
  const seen: Seen[] = [];
  const contexts = new Map(
    Object.entries(certs).map(([name, c]) => [name, createSecureContext({ cert: c.certPem, key: c.keyPem })]),
  );
  const first = Object.values(certs)[0]!;
  const server: Server = createServer(
    { cert: first.certPem, key: first.keyPem, SNICallback: (name, cb) => cb(null, contexts.get(name)) },
    (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const key = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '');
      seen.push({ host, path: req.url ?? '', key });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
  );
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

for (const kind of TEST_ENGINES) {
  describe(`a shell joining a running sandbox on ${kind}`, () => {
    const apiKey = `sk-ant-api03-${randomBytes(30).toString('hex')}`;
    const ghToken = `ghp_${randomBytes(18).toString('hex').toUpperCase()}`;
    let up: Awaited<ReturnType<typeof upstream>>;
    let env: NodeJS.ProcessEnv;
    let ws: string;
    const outputs: string[] = [];

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      const dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-join-')));
      ws = join(dir, 'ws');
      await run('mkdir', ['-p', ws]);
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      up = await upstream({
        'api.anthropic.com': await ca.issueLeaf('api.anthropic.com'),
        'api.github.com': await ca.issueLeaf('api.github.com'),
      });
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          '  hosts: { api.anthropic.com: host-gateway, api.github.com: host-gateway }',
          `  allow_host_ports: [${up.port}]`,
          `  allow: ['api.anthropic.com:${up.port}', 'api.github.com:${up.port}']`,
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
      // The running sandbox, started without any key.
      const started = await corral(
        ['shell', 'claude', '--detach', '--', 'sh', '-c', 'touch /tmp/running-one && exec sleep 600'],
        { cwd: ws, env },
      );
      expect(started.code, started.stderr).toBe(0);
    }, 300_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      up?.close();
    });

    it('gets placeholders for the keys it brings; the running gateway injects them; they appear nowhere inside', async () => {
      const script = [
        '[ -f /tmp/running-one ] && echo joined',
        'case "$ANTHROPIC_API_KEY" in sk-ant-api03-corral*) echo placeholder;; *) echo not-placeholder;; esac',
        'case "$GH_TOKEN" in ghp_corral*) echo placeholder;; *) echo not-placeholder;; esac',
        `curl -s -o /dev/null -w '%{http_code}\\n' https://api.anthropic.com:${up.port}/v1/messages -H "x-api-key: $ANTHROPIC_API_KEY"`,
        `curl -s -o /dev/null -w '%{http_code}\\n' https://api.github.com:${up.port}/user -H "Authorization: token $GH_TOKEN"`,
        `grep -rlF ${needle(apiKey)} ${needle(ghToken)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
      ].join('\n');
      const before = up.seen.length;
      const r = await corral(
        ['shell', 'claude', '-e', 'ANTHROPIC_API_KEY', '-e', 'GH_TOKEN', '--', 'sh', '-c', script],
        { cwd: ws, env: { ...env, ANTHROPIC_API_KEY: apiKey, GH_TOKEN: ghToken } },
      );
      outputs.push(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([
        'joined',
        'placeholder',
        'placeholder',
        '200',
        '200',
        'scanned',
      ]);
      // It joined the running sandbox, and the upstreams got the real values, swapped in by the gateway.
      const got = up.seen.slice(before);
      expect(got.find((s) => s.host === 'api.anthropic.com')?.key).toBe(apiKey);
      expect(got.find((s) => s.host === 'api.github.com')?.key).toBe(`token ${ghToken}`);
      // A second process inside, started separately, finds the keys nowhere either.
      const look = await corral(
        [
          'exec',
          'claude',
          '--',
          'sh',
          '-c',
          `grep -rlF ${needle(apiKey)} ${needle(ghToken)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
        ],
        { cwd: ws, env },
      );
      outputs.push(look.stdout, look.stderr);
      expect(look.stdout.trim()).toBe('scanned');
    }, 240_000);

    it('refuses a key when the running gateway is gone, rather than passing it in', async () => {
      const engine = await engineFor(kind);
      const gw = await engine.inspect(gatewayName((await resolveWorkspace(ws)).id));
      expect(gw?.running).toBe(true);
      await engine.remove(gw!.id, { force: true });
      const r = await corral(
        ['shell', 'claude', '-e', 'ANTHROPIC_API_KEY', '--', 'printenv', 'ANTHROPIC_API_KEY'],
        {
          cwd: ws,
          env: { ...env, ANTHROPIC_API_KEY: apiKey },
        },
      );
      outputs.push(r.stdout, r.stderr);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('ANTHROPIC_API_KEY cannot go into the running');
      expect(r.stderr).toContain('egress gateway is not running');
      expect(r.stderr).toContain('--no-join');
      // A join without keys still works.
      const plain = await corral(['shell', 'claude', '--', 'true'], { cwd: ws, env });
      expect(plain.code, plain.stderr).toBe(0);
      for (const text of outputs) {
        expect(text).not.toContain(apiKey);
        expect(text).not.toContain(ghToken);
      }
    }, 120_000);
  });
}
