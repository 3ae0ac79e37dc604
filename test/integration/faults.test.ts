/**
 * Faults survived: corral SIGKILLed at each phase of a start (right after the sandbox is created,
 * after the gateway started, after the host bridge started) leaves nothing the next `corral run`
 * trips over, and `corral clean` then leaves nothing of the workspace at all; the gateway killed
 * under a running sandbox makes its traffic fail closed, with corral's message, never open.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
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

    beforeAll(async () => {
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
  });
}
