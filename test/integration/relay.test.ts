/**
 * The sandbox's relay (relay/, Go) in a real sandbox on each engine: it is what carries the
 * sandbox's traffic (no Node forwarder runs), the sandbox still has no network of its own, and its
 * ways out all go through the gateway: HTTP through the proxy port, and a TCP tunnel through the ssh
 * ProxyCommand helper, refused for a port no rule allows. The "site" is a test-owned container on the
 * engine's ordinary network, reached under fake names the gateway is told about (egress.hosts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_BIN } from '../../src/gateway/folders.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

/** A web server (8080) and a TCP echo (2222, an "sshd") in one container. */
const SITE = `require('http').createServer((q,s)=>{console.log('HIT '+q.url);s.end('site-ok')}).listen(8080);require('net').createServer(c=>{c.write('SSH-2.0-corraltest\\n');c.pipe(c)}).listen(2222)`;

for (const kind of TEST_ENGINES) {
  describe(`the sandbox's Go relay on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let ip: string;
    const name = `corral-test-relay-${process.pid}`;
    const sh = (script: string) =>
      corral(['shell', 'claude', '--no-join', '--', 'sh', '-c', script], { cwd: ws, env });

    beforeAll(async () => {
      // The build makes it whenever Go is there; this test is about the relay, not the fallback.
      expect(existsSync(RELAY_BIN), `${RELAY_BIN} (npm run build with Go)`).toBe(true);
      const image = await agentImage(await engineFor(kind), 'claude');
      await run(kind, ['run', '-d', '--rm', '--name', name, '--user', '1000', image, 'node', '-e', SITE]);
      ip = (await run(kind, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-relay-')));
      await writeFile(
        join(ws, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          '  allow: ["site.test:8080", "sshd.test:2222"]',
          `  hosts: { site.test: ${ip}, sshd.test: ${ip}, closed.test: ${ip} }`,
          '',
        ].join('\n'),
      );
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'config.yaml'),
        CORRAL_DATA_DIR: join(ws, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      if (ws) await corral(['clean'], { cwd: ws, env });
      await run(kind, ['rm', '-f', name]).catch(() => {});
    });

    it('runs the relay, not Node, and reaches only the gateway', async () => {
      const r = await sh(
        [
          // What runs in the sandbox besides this shell: the relay, and no node.
          'for p in /proc/[0-9]*; do readlink $p/exe; done | sort -u | grep -E "relay|node" || echo nothing',
          "sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' '",
          `curl -s --noproxy '*' -m 3 http://${ip}:8080/direct || echo direct-failed`,
          'getent hosts site.test || echo no-dns',
          'curl -s -m 10 -w " %{http_code}\\n" http://site.test:8080/via-relay',
        ].join('; '),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toEqual([
        '/run/corral/gw/corral-relay',
        'lo',
        'direct-failed',
        'no-dns',
        'site-ok 200',
      ]);
      const hits = (await run(kind, ['logs', name])).stdout;
      expect(hits).toContain('HIT /via-relay');
      expect(hits).not.toContain('HIT /direct');
    });

    it("tunnels ssh's ProxyCommand through the gateway, and says why a port is refused", async () => {
      const r = await sh(
        [
          'head -1 /tmp/corral-ssh-proxy >/dev/null; sed -n 2p /tmp/corral-ssh-proxy',
          'echo ping | /tmp/corral-ssh-proxy sshd.test 2222',
          'echo ping | /tmp/corral-ssh-proxy closed.test 2222; echo "exit $?"',
        ].join('; '),
      );
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('exec /run/corral/gw/corral-relay --connect /run/corral/gw/proxy.sock "$1" "$2"');
      expect(lines.slice(1)).toEqual(['SSH-2.0-corraltest', 'ping', 'exit 1']);
      expect(r.stderr).toContain('corral: closed.test:2222 refused (403)');
    });
  });
}
