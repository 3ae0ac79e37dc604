/**
 * Published sandbox ports are reachable on the host's 127.0.0.1 and nowhere else, on the ordinary
 * network and behind the gateway (where a relay container publishes them).
 */
import { mkdtemp } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

const otherAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

async function get(url: string): Promise<string | Error> {
  try {
    return await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text();
  } catch (e) {
    return e as Error;
  }
}

const MODES = ['open', 'gateway'] as const;

for (const kind of TEST_ENGINES) {
  describe.each(MODES)(`ports on ${kind}, --network %s`, (network) => {
    it('publishes --port on 127.0.0.1 only, and list shows it', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await mkdtemp(join(tmpdir(), 'corral-ports-'));
      const env = { CORRAL_ENGINE: kind, CORRAL_CONFIG: join(ws, 'none.yaml') };
      const port = 20000 + Math.floor(Math.random() * 20000);
      const server = "require('http').createServer((q, s) => s.end('from the sandbox')).listen(3000)";
      const args = ['shell', 'claude', '-d', '--network', network, '--port', `${port}:3000`];
      let r = await corral([...args, '--', 'node', '-e', server], { cwd: ws, env });
      expect(r.code).toBe(0);
      try {
        let body: string | Error = new Error('not yet');
        for (let i = 0; i < 30 && body instanceof Error; i++) {
          body = await get(`http://127.0.0.1:${port}/`);
          if (body instanceof Error) await new Promise((res) => setTimeout(res, 200));
        }
        expect(body).toBe('from the sandbox');
        if (otherAddress) expect(await get(`http://${otherAddress}:${port}/`)).toBeInstanceOf(Error);
        else
          console.warn('[skip] no non-loopback IPv4 address to check that the port is not published there');
        r = await corral(['list', '--json'], { cwd: ws, env });
        const mine = (JSON.parse(r.stdout) as { workspacePath: string; ports: unknown[] }[]).find(
          (s) => s.workspacePath === ws,
        );
        expect(mine?.ports).toEqual([{ hostIp: '127.0.0.1', hostPort: port, containerPort: 3000 }]);
      } finally {
        await corral(['stop', 'claude', '-f'], { cwd: ws, env });
        if (network === 'gateway') {
          const left = await corral(['list', '--json'], { cwd: ws, env });
          expect(left.stdout).not.toContain(ws);
        }
        await corral(['clean'], { cwd: ws, env });
      }
    });
  });
}
