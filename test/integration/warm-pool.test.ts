/**
 * The daemon's warm pool on each engine, for real: a run through the daemon takes the container
 * the pool made beforehand (its hostname is that container's id), the pool refills, a run with
 * other options starts cold, idle warm containers are not listed as sandboxes, and `corral clean`,
 * `corral stop` and `corral daemon stop` leave none behind (checked by label). Without a daemon
 * no warm container is made.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/index.js';
import { corral } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

const none = { CORRAL_CONFIG: '/nonexistent/corral.yaml' };
const WARM = 'io.corral.warm';

for (const kind of TEST_ENGINES) {
  describe(`warm pool on ${kind}`, () => {
    let d: TestDaemon;
    let ws: string;
    let wsId: string;
    let engine: ContainerEngine;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-warm-ws-')));
      wsId = createHash('sha256').update(ws).digest('hex').slice(0, 12);
      // A key: its placeholder in the sandbox differs per run, and a taking run adopts the warm one's.
      d = await startTestDaemon({
        ...none,
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(ws, '.state'),
        ANTHROPIC_API_KEY: 'sk-ant-api03-warmpooltest',
      });
      env = d.env;
    });
    afterAll(async () => {
      await d?.stop();
      await corral(['clean'], { env, cwd: ws }).catch(() => undefined);
    });

    /** This workspace's warm containers not yet taken, by label. */
    const idle = async () =>
      (await engine.list({ labels: [`${WARM}`, `io.corral.workspace=${wsId}`], all: true })).filter((c) =>
        c.name.replace(/^\//, '').startsWith('corral-warm-'),
      );
    const anyWarm = async () =>
      engine.list({ labels: [`${WARM}`, `io.corral.workspace=${wsId}`], all: true });
    const waitFor = async <T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
      const until = Date.now() + ms;
      for (;;) {
        const v = await f();
        if (v !== undefined) return v;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const oneIdle = (not?: string) =>
      waitFor('a warm container', async () => (await idle()).find((c) => c.id !== not));
    // Arguments with spaces and quotes travel through the launch script unchanged.
    const run = (...extra: string[]) =>
      corral(
        [
          'shell',
          'claude',
          '--no-join',
          ...extra,
          '--',
          'sh',
          '-c',
          'hostname; printf "%s|" "$@"',
          'x',
          'a b',
          "c'd",
        ],
        { env, cwd: ws },
      );

    it('a run takes the pre-created container, the pool refills, other options go cold', async () => {
      const first = await run();
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain("a b|c'd|");
      const warm = await oneIdle();
      expect(warm.state).not.toBe('running');
      // Not a sandbox until taken.
      const ls = JSON.parse((await corral(['ls', '--json'], { env, cwd: ws })).stdout) as { name: string }[];
      expect(ls.map((s) => s.name)).not.toContain(warm.name.replace(/^\//, ''));

      const second = await run();
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain("a b|c'd|");
      expect(second.stdout.split('\n')[0]).toBe(warm.id.slice(0, 12));
      expect(await engine.inspect(warm.id)).toBeUndefined();
      const refilled = await oneIdle(warm.id);

      const other = await run('-e', 'WARM_TEST=1');
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout.split('\n')[0]).not.toBe(refilled.id.slice(0, 12));
      // The pool is remade for what runs ask now: the old one goes.
      await waitFor('the old warm container to go', async () =>
        (await engine.inspect(refilled.id)) ? undefined : true,
      );
      await oneIdle(refilled.id);
    });

    it('corral stop and corral clean leave no warm container', async () => {
      await oneIdle();
      await corral(['shell', 'claude', '-d', '--', 'sleep', '600'], { env, cwd: ws });
      const stopped = await corral(['stop', 'claude'], { env, cwd: ws });
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(await idle()).toEqual([]);
      const again = await run();
      expect(again.code, again.stderr).toBe(0);
      await oneIdle();
      const clean = await corral(['clean'], { env, cwd: ws });
      expect(clean.code, clean.stderr).toBe(0);
      expect(await anyWarm()).toEqual([]);
      expect(
        (await readdir(join(ws, '.state', 'warm')).catch(() => [])).filter((n) => n.includes(wsId)),
      ).toEqual([]);
    });

    it('daemon stop leaves no warm container; without a daemon none is made', async () => {
      const r = await run();
      expect(r.code, r.stderr).toBe(0);
      await oneIdle();
      await d.stop();
      expect(await anyWarm()).toEqual([]);
      const cold = await run();
      expect(cold.code, cold.stderr).toBe(0);
      await new Promise((res) => setTimeout(res, 1500));
      expect(await anyWarm()).toEqual([]);
    });
  });
}
