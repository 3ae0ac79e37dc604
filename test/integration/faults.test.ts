/**
 * Faults survived: corral SIGKILLed at each phase of a start (right after the sandbox is created,
 * after the gateway started, after the host bridge started) leaves nothing the next `corral run`
 * trips over, and `corral clean` then leaves nothing of the workspace at all; the gateway killed
 * under a running sandbox makes its traffic fail closed, with corral's message, never open; and the
 * process serving the run (a detached run's bridge process, an attached run's corral) says so and
 * restarts it, after which the same sandbox's traffic flows again.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`faults survived on ${kind}`, () => {
    let engine: ContainerEngine;
    let ws: string;
    let wsId: string;
    let env: NodeJS.ProcessEnv;
    let upstream: Server;
    let port: number;
    const hostAlias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';

    beforeAll(async () => {
      // A test-owned upstream on this host, reached by the sandboxes as the host alias (--allow-host).
      upstream = createServer((_q, s) => s.end('upstream-ok'));
      await new Promise<void>((r) => upstream.listen(0, '0.0.0.0', r));
      port = (upstream.address() as AddressInfo).port;
      engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-faults-')));
      wsId = workspaceIdOf(ws);
      const cfg = await mkdtemp(join(tmpdir(), 'corral-faults-cfg-'));
      await writeFile(join(cfg, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(cfg, 'config.yaml'),
        CORRAL_DATA_DIR: join(cfg, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    }, 600_000);

    afterAll(async () => {
      upstream?.close();
      if (!engine) return;
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
    });

    /** Everything of this workspace the engine still has: containers, networks, volumes. */
    const leftovers = async () => [
      ...(await engine.list({ labels: [`io.corral.workspace=${wsId}`], all: true })).map(
        (c) => `container ${c.name}`,
      ),
      ...(await engine.listNetworks([`io.corral.workspace=${wsId}`])).map((n) => `network ${n.name}`),
      ...(await engine.listVolumes([`io.corral.workspace=${wsId}`])).map((v) => `volume ${v.name}`),
    ];
    /** Host processes still working for this workspace (the host bridge runs as one). */
    const hostProcesses = async () =>
      (await run('ps', ['-eo', 'pid,args'])).stdout
        .split('\n')
        .filter((l) => l.includes(wsId) || (l.includes(ws) && !l.includes('vitest')));

    for (const phase of ['create', 'gateway', 'bridge']) {
      it(`after a SIGKILL right after "${phase}", the next run works and clean leaves nothing`, async () => {
        let child: ChildProcess | undefined;
        const killed = await corral(['shell', 'claude', '--no-join', '--', 'sleep', '60'], {
          cwd: ws,
          env: { ...env, CORRAL_TRACE: '1' },
          onSpawn: (c) => {
            child = c;
            let seen = '';
            c.stderr?.on('data', (d: Buffer) => {
              seen += d.toString();
              if (new RegExp(`\\[trace\\] ${phase}\\s`).test(seen)) c.kill('SIGKILL');
            });
          },
        });
        expect(child).toBeDefined();
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const next = await corral(['shell', 'claude', '--no-join', '--', 'sh', '-c', 'echo next-run-ok'], {
          cwd: ws,
          env,
        });
        expect(next.code, next.stderr).toBe(0);
        expect(next.stdout.trim()).toBe('next-run-ok');
        const clean = await corral(['clean'], { cwd: ws, env });
        expect(clean.code, clean.stderr).toBe(0);
        expect(await leftovers()).toEqual([]);
        expect(await hostProcesses()).toEqual([]);
      }, 180_000);
    }

    it('fails closed when the gateway is killed under a running sandbox, and says so', async () => {
      const name = `corral-faults-${process.pid}-${kind}`;
      const d = await corral(['shell', 'claude', '-d', '--name', name, '--', 'sleep', '120'], {
        cwd: ws,
        env,
      });
      expect(d.code, d.stderr).toBe(0);
      const probe = (url: string) =>
        corral(['exec', name, '--', 'sh', '-c', `curl -s -m 20 -w '\\n%{http_code}' ${url}; true`], {
          cwd: ws,
          env,
        });
      try {
        // Up: the gateway answers (a denial, with its reason).
        const up = await probe('http://denied.invalid/');
        expect(up.stdout.trim().split('\n').at(-1)).toBe('403');
        await run(kind, ['kill', `corral-${wsId}-gateway`]);
        // Down: no answer but corral's own, and no way around it (no route, no DNS of its own).
        const down = await probe('http://denied.invalid/');
        const lines = down.stdout.trim().split('\n');
        expect(lines.at(-1)).toBe('502');
        expect(down.stdout).toMatch(/corral: .* not reachable/);
        const direct = await corral(
          [
            'exec',
            name,
            '--',
            'sh',
            '-c',
            "curl -s --noproxy '*' -m 3 http://198.51.100.10/ || echo direct-failed",
          ],
          { cwd: ws, env },
        );
        expect(direct.stdout.trim()).toBe('direct-failed');
        // And the next run in the workspace brings a gateway up again.
        const next = await corral(
          [
            'shell',
            'claude',
            '--no-join',
            '--',
            'sh',
            '-c',
            "curl -s -o /dev/null -w '%{http_code}' -m 20 http://denied.invalid/",
          ],
          { cwd: ws, env },
        );
        expect(next.stdout.trim()).toBe('403');
      } finally {
        await corral(['stop', name, '-f'], { cwd: ws, env });
      }
    }, 240_000);
    /** The sandbox's request to the host upstream: `200 upstream-ok`, or the code and corral's text. */
    const fetchUpstream = (name: string) =>
      corral(
        [
          'exec',
          name,
          '--',
          'sh',
          '-c',
          `curl -s -m 20 -w ' %{http_code}' http://${hostAlias}:${port}/; true`,
        ],
        { cwd: ws, env },
      );
    const gatewayRunning = async () =>
      (await engine.inspect(`corral-${wsId}-gateway`).catch(() => undefined))?.running ?? false;
    const until = async (what: () => Promise<boolean>, ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200)))
        if (await what()) return true;
      return false;
    };

    it("restarts the gateway killed under a detached run, says so in the run's log, and fails closed meanwhile", async () => {
      const name = `corral-faults-re-${process.pid}-${kind}`;
      // The agent's own command (Claude Code idling as an MCP server), so the run has its bridge process.
      const d = await corral(
        [
          'run',
          'claude',
          '-d',
          '--name',
          name,
          '--allow-host',
          String(port),
          '--',
          '--strict-mcp-config',
          'mcp',
          'serve',
        ],
        { cwd: ws, env },
      );
      expect(d.code, d.stderr).toBe(0);
      try {
        expect((await fetchUpstream(name)).stdout).toBe('upstream-ok 200');
        await run(kind, ['kill', `corral-${wsId}-gateway`]);
        // Right after the kill: refused by corral's forwarder (or already back), never another way.
        const during = (await fetchUpstream(name)).stdout;
        expect(during === 'upstream-ok 200' || /corral: .* not reachable.* 502$/s.test(during), during).toBe(
          true,
        );
        expect(await until(gatewayRunning, 20_000), 'the gateway was not restarted').toBe(true);
        expect(
          await until(async () => (await fetchUpstream(name)).stdout === 'upstream-ok 200', 15_000),
        ).toBe(true);
        const bridges = join(env.CORRAL_DATA_DIR!, 'bridges');
        const logs = await Promise.all(
          (await readdir(bridges))
            .filter((f) => f.endsWith('.log'))
            .map((f) => readFile(join(bridges, f), 'utf8')),
        );
        const said = logs.join('\n');
        expect(said).toMatch(/corral: the egress gateway stopped \(exit code \d+\).*Restarting it/);
        expect(said).toMatch(/corral: the egress gateway is back/);
      } finally {
        await corral(['stop', name, '-f'], { cwd: ws, env });
      }
    }, 240_000);

    it('restarts the gateway killed under an attached run and says so on its stderr', async () => {
      let killed = false;
      const r = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--allow-host',
          String(port),
          '--',
          'sh',
          '-c',
          `echo started; sleep 10; curl -s -m 20 -w ' %{http_code}' http://${hostAlias}:${port}/`,
        ],
        {
          cwd: ws,
          env,
          onSpawn: (c) =>
            c.stdout?.on('data', (b: Buffer) => {
              if (!killed && b.toString().includes('started')) {
                killed = true;
                void run(kind, ['kill', `corral-${wsId}-gateway`]);
              }
            }),
        },
      );
      expect(killed).toBe(true);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/corral: the egress gateway stopped \(exit code \d+\).*Restarting it/);
      expect(r.stderr).toMatch(/corral: the egress gateway is back/);
      expect(r.stdout).toContain('upstream-ok 200');
    }, 240_000);
  });
}
