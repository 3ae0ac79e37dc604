/**
 * A small soak (bench/soak.mjs runs 200): 20 start/stop cycles, 5 at once, each in its own
 * workspace behind the gateway with its host bridge (Claude Code idling as an MCP server); every
 * cycle must work, and nothing may be left: by label (containers, networks, volumes but the agent
 * homes, which `corral clean` removes next) and by path (sockets, leases, bridge processes; after
 * `corral clean`, no file of these workspaces at all).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
const CYCLES = 20;
const AT_ONCE = 5;

/** Every file under `dir` (sockets marked), relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const p = join(e.parentPath, e.name);
    out.push(
      `${p.slice(dir.length + 1)}${(await stat(p).catch(() => undefined))?.isSocket() ? ' (socket)' : ''}`,
    );
  }
  return out;
}

for (const kind of TEST_ENGINES) {
  describe(`soak on ${kind}`, () => {
    let engine: ContainerEngine;
    let dir: string;
    let data: string;
    let env: NodeJS.ProcessEnv;
    const workspaces: { ws: string; id: string; name: string }[] = [];

    beforeAll(async () => {
      engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-soak-')));
      data = join(dir, 'data');
      await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: data,
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      for (let i = 0; i < AT_ONCE; i++) {
        const ws = join(dir, `ws${i}`);
        await mkdir(ws);
        workspaces.push({ ws, id: workspaceIdOf(ws), name: `corral-soak-${process.pid}-${kind}-${i}` });
      }
    }, 600_000);

    afterAll(async () => {
      for (const w of workspaces) await corral(['clean'], { cwd: w.ws, env }).catch(() => {});
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const byLabel = async () => {
      const left: string[] = [];
      for (const w of workspaces) {
        const labels = [`io.corral.workspace=${w.id}`];
        left.push(...(await engine.list({ labels, all: true })).map((c) => `container ${c.name}`));
        left.push(...(await engine.listNetworks(labels)).map((n) => `network ${n.name}`));
        left.push(...(await engine.listVolumes(labels)).map((v) => `volume ${v.name}`));
      }
      return left;
    };
    const processes = async () => {
      const left: string[] = [];
      for (const pid of (await readdir('/proc')).filter(
        (p) => /^\d+$/.test(p) && Number(p) !== process.pid,
      )) {
        const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
        if (environ.includes(`CORRAL_DATA_DIR=${data}\0`)) left.push(`process ${pid}`);
      }
      return left;
    };

    it(`runs ${CYCLES} start/stop cycles, ${AT_ONCE} at once, and leaves nothing`, async () => {
      const failures: string[] = [];
      let next = 0;
      await Promise.all(
        workspaces.map(async (w) => {
          while (next < CYCLES) {
            // One graceful stop (it waits out the agent's 10 s), the rest kill: both paths, in ~60 s.
            const force = next++ > 0 ? ['-f'] : [];
            const up = await corral(
              ['run', 'claude', '-d', '--name', w.name, '--', '--strict-mcp-config', 'mcp', 'serve'],
              { cwd: w.ws, env },
            );
            if (up.code !== 0) failures.push(`run: ${up.stderr.trim()}`);
            const down = await corral(['stop', w.name, ...force], { cwd: w.ws, env });
            if (down.code !== 0) failures.push(`stop: ${down.stderr.trim()}`);
          }
        }),
      );
      expect(failures).toEqual([]);
      // Between runs only state stays: each workspace's agent home, its gateway folder's settings,
      // CA copy and traffic log, and ended sessions' state. No container, network, socket, lease or process.
      const homes = new Set(workspaces.map((w) => `volume corral-${w.id}-claude-default-home`));
      expect((await byLabel()).filter((l) => !homes.has(l))).toEqual([]);
      const files = [
        ...(await filesUnder(join(data, 'gateways'))).map((f) => `gateways/${f}`),
        ...(await filesUnder(join(data, 'bridges'))).map((f) => `bridges/${f}`),
      ];
      const state = /^(gateways\/[^/]+\/(conf|log|sock)\/[^/ ]+|bridges\/[0-9a-f]+\.(json|log))$/;
      expect(files.filter((f) => !state.test(f) || f.endsWith('.sock'))).toEqual([]);
      expect(files.filter((f) => f.startsWith('bridges/') && f.endsWith('.json'))).toHaveLength(CYCLES);
      expect(await processes()).toEqual([]);

      for (const w of workspaces) {
        const clean = await corral(['clean'], { cwd: w.ws, env });
        expect(clean.code, clean.stderr).toBe(0);
      }
      expect(await byLabel()).toEqual([]);
      expect(await filesUnder(join(data, 'gateways'))).toEqual([]);
      expect(await filesUnder(join(data, 'bridges'))).toEqual([]);
      for (const w of workspaces) expect(await filesUnder(join(w.ws, '.corral'))).toEqual([]);
      expect(await processes()).toEqual([]);
      // Nothing named after these workspaces in the engine either (by name, not only by label).
      const names = (await run(kind, ['ps', '-a', '--format', '{{.Names}}'])).stdout;
      for (const w of workspaces) expect(names).not.toContain(w.id);
    }, 300_000);
  });
}
