/**
 * The egress gateway, attacked from inside a sandbox. The sandbox has no network of its own; the
 * workspace's gateway is its only way out and decides per request. The "site" is a test-owned
 * container on the engine's ordinary network, reached under fake names the gateway is told about
 * (egress.hosts); the host service is a server on this host.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

interface Upstream {
  server: Server;
  port: number;
  hits: string[];
}

async function upstream(body: string): Promise<Upstream> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.headers.host}${req.url}`);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

const run = promisify(execFile);

const SITE = `require('http').createServer((q,s)=>{console.log('HIT '+q.method+' '+q.headers.host+q.url);s.end('upstream-ok')}).listen(8080)`;
/** Plays api.anthropic.com: TLS with a test CA's certificate, and it checks the API key it gets. */
const API = `require('https').createServer({cert:process.env.CERT,key:process.env.KEY},(q,s)=>{const ok=q.headers['x-api-key']===process.env.REAL;console.log('HIT '+q.method+' '+q.headers.host+q.url+' '+(ok?'key-ok':'key-bad'));s.writeHead(ok?200:401);s.end(ok?'key-ok':'key-bad')}).listen(8080)`;

/** A web server in a container of its own; its log lists the requests it got. */
async function siteContainer(kind: string, image: string, name: string, code = SITE, env: string[] = []) {
  await run(kind, ['run', '-d', '--rm', '--name', name, '--user', '1000', ...env, image, 'node', '-e', code]);
  const ip = (await run(kind, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
  return {
    ip,
    port: 8080,
    hits: async () =>
      (await run(kind, ['logs', name])).stdout
        .split('\n')
        .filter((l) => l.startsWith('HIT '))
        .map((l) => l.slice(4)),
    stop: () => run(kind, ['rm', '-f', name]).catch(() => {}),
  };
}

for (const kind of TEST_ENGINES) {
  describe(`egress gateway on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let site: Awaited<ReturnType<typeof siteContainer>>;
    let api: Awaited<ReturnType<typeof siteContainer>>;
    // Built at run time: a key-shaped value that exists nowhere else.
    const realKey = `sk-ant-api03-${randomBytes(24).toString('hex')}`;
    let hostService: Upstream;
    const hostAlias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
    const sh = (script: string, extra: string[] = []) =>
      corral(['shell', 'claude', '--no-join', ...extra, '--', 'sh', '-c', script], { cwd: ws, env });
    const status = (url: string) => `curl -s -o /dev/null -w '%{http_code}\\n' ${url}`;

    beforeAll(async () => {
      const image = await agentImage(await engineFor(kind), 'claude');
      site = await siteContainer(kind, image, `corral-test-site-${process.pid}`);
      hostService = await upstream('host-service-ok');
      const home = await realpath(await mkdtemp(join(tmpdir(), 'corral-gw-')));
      // Outside the workspace: its private key would (rightly) stop the start at the credential check.
      const testCa = await loadOrCreateCa(join(await mkdtemp(join(tmpdir(), 'corral-gw-ca-')), 'test-ca'));
      const leaf = await testCa.issueLeaf('api.anthropic.com');
      api = await siteContainer(kind, image, `corral-test-api-${process.pid}`, API, [
        '-e',
        `CERT=${leaf.certPem}`,
        '-e',
        `KEY=${leaf.keyPem}`,
        '-e',
        `REAL=${realKey}`,
      ]);
      ws = home;
      await writeFile(
        join(home, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          // The test API listens on 8080; the agent's own port-less rule covers 443 and 80 only.
          '  allow: ["allowed.test:8080", "api.anthropic.com:8080"]',
          "  deny: ['POST api.anthropic.com/v1/files']",
          `  hosts: { allowed.test: ${site.ip}, denied.test: ${site.ip}, api.anthropic.com: ${api.ip} }`,
          `  upstream_ca: ${testCa.certPath}`,
          '',
        ].join('\n'),
      );
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(home, 'config.yaml'),
        CORRAL_DATA_DIR: join(home, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env });
      await site?.stop();
      await api?.stop();
      hostService?.server.close();
    });

    it('lets an allowed domain through and refuses another with the rule to add', async () => {
      const r = await sh(
        `curl -s -w ' %{http_code}\\n' http://allowed.test:${site.port}/a; curl -s http://denied.test:${site.port}/b`,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('upstream-ok 200');
      expect(r.stdout).toContain(`corral egress allow denied.test:${site.port}`);
      expect(await site.hits()).toEqual([`GET allowed.test:${site.port}/a`]);
    });

    it('gives the sandbox no network of its own: only loopback, no DNS, no direct route', async () => {
      const before = (await site.hits()).length;
      const r = await sh(
        [
          // The interfaces the sandbox's kernel has (gVisor has no /sys/class/net; both have this).
          "sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' '",
          'getent hosts allowed.test || echo no-dns-1',
          'getent hosts deb.debian.org || echo no-dns-2',
          `curl -s --noproxy '*' -m 3 http://${site.ip}:${site.port}/ || echo direct-failed-1`,
          `curl -s --noproxy '*' -m 3 http://${kind === 'podman' ? '10.88.0.1' : '172.17.0.1'}:${hostService.port}/ || echo direct-failed-2`,
          `curl -s --noproxy '*' -m 3 http://169.254.169.254/ || echo direct-failed-3`,
        ].join('; '),
      );
      expect(r.stdout.trim().split('\n')).toEqual([
        'lo',
        'no-dns-1',
        'no-dns-2',
        'direct-failed-1',
        'direct-failed-2',
        'direct-failed-3',
      ]);
      expect((await site.hits()).length).toBe(before);
      expect(hostService.hits).toEqual([]);
    });

    it('refuses raw IPs, the metadata address, private ranges and host ports not allowed', async () => {
      const r = await sh(
        [
          status('http://1.1.1.1/'),
          status('http://169.254.169.254/latest/meta-data/'),
          status(`http://${site.ip}:${site.port}/by-ip`),
          status(`http://${hostAlias}:${hostService.port}/`),
          `curl -s -o /dev/null -w '%{http_code}\\n' -x http://127.0.0.1:3128 https://example.com/ || echo tunnel-refused`,
        ].join('; '),
      );
      expect(r.stdout.trim().split('\n').slice(0, 4)).toEqual(['403', '403', '403', '403']);
      // A CONNECT to a domain outside the policy is refused before any connection is made.
      expect(r.stdout).toMatch(/403|tunnel-refused/);
      expect(hostService.hits).toEqual([]);
      expect(await site.hits()).not.toContain(`GET ${site.ip}:${site.port}/by-ip`);
    });

    it('opens a host port only when allowed (--allow-host)', async () => {
      const r = await sh(`curl -s http://${hostAlias}:${hostService.port}/x`, [
        '--allow-host',
        String(hostService.port),
      ]);
      expect(r.stdout).toBe('host-service-ok');
      expect(hostService.hits).toEqual([`GET ${hostAlias}:${hostService.port}/x`]);
    });

    it('applies `corral egress allow` to the running gateway without restarting the sandbox', async () => {
      expect((await corral(['shell', 'claude', '-d'], { cwd: ws, env })).code).toBe(0);
      try {
        const probe = () =>
          corral(['exec', 'claude', '--', 'sh', '-c', status(`http://denied.test:${site.port}/live`)], {
            cwd: ws,
            env,
          });
        expect((await probe()).stdout.trim()).toBe('403');
        const allowed = await corral(['egress', 'allow', `denied.test:${site.port}`], { cwd: ws, env });
        // Said only once the gateway confirms it serves the rule: the very next request passes.
        expect(allowed.stderr).toContain('applied to the running gateway');
        expect((await probe()).stdout.trim()).toBe('200');
      } finally {
        await corral(['stop', 'claude', '-f'], { cwd: ws, env });
        await corral(['egress', 'reset'], { cwd: ws, env });
      }
    });

    it('keeps the real API key out of the sandbox and injects it at the gateway', async () => {
      const half = realKey.length / 2;
      // The key's second half, spelled so that this script itself never contains it whole.
      const needle = `"$(printf '%s%s' '${realKey.slice(half, half + 8)}' '${realKey.slice(half + 8)}')"`;
      const r = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '-e',
          'ANTHROPIC_API_KEY',
          '--',
          'sh',
          '-c',
          [
            'curl -s https://api.anthropic.com:8080/v1/messages -H "x-api-key: $ANTHROPIC_API_KEY"; echo',
            'echo "sandbox-key=$ANTHROPIC_API_KEY"',
            `grep -rlF ${needle} /proc/[0-9]*/environ /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
          ].join('; '),
        ],
        { cwd: ws, env: { ...env, ANTHROPIC_API_KEY: realKey } },
      );
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('key-ok');
      expect(lines[1]).toMatch(/^sandbox-key=sk-ant-/);
      expect(lines.slice(2)).toEqual(['scanned']);
      expect(r.stdout + r.stderr).not.toContain(realKey);
      expect((await api.hits()).at(-1)).toBe('GET api.anthropic.com:8080/v1/messages key-ok');
      const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      expect(log.stdout).toContain('"host":"api.anthropic.com"');
      expect(log.stdout).not.toContain(realKey);
    });

    it('refuses a denied method and path inside an intercepted TLS connection', async () => {
      const before = (await api.hits()).length;
      const r = await sh(
        [
          `curl -s -o /dev/null -w '%{http_code}\\n' -X POST https://api.anthropic.com:8080/v1/files`,
          `curl -s -o /dev/null -w '%{http_code}\\n' --path-as-is -X POST https://api.anthropic.com:8080/v1/models/../files`,
          `curl -s -o /dev/null -w '%{http_code}\\n' https://api.anthropic.com:8080/v1/files`,
        ].join('; '),
      );
      // The key check fails (no key sent) but the GET reaches the upstream: 401 is the upstream's.
      expect(r.stdout.trim().split('\n')).toEqual(['403', '403', '401']);
      expect((await api.hits()).slice(before)).toEqual(['GET api.anthropic.com:8080/v1/files key-bad']);
    });

    it('logs each decision as a JSON line', async () => {
      const r = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      const entries = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { host: string; decision: string; status: number });
      expect(entries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ host: 'allowed.test', decision: 'allow', status: 200 }),
          expect.objectContaining({ host: 'denied.test', decision: 'deny', status: 403 }),
          expect.objectContaining({ host: '169.254.169.254', decision: 'deny', status: 403 }),
        ]),
      );
      const denied = await corral(['egress', 'log', '--denied', '-n', '0'], { cwd: ws, env });
      expect(denied.stdout).not.toContain('allowed.test');
      expect(denied.stdout).toContain('denied.test');
    });
  });
}
