#!/usr/bin/env node
/**
 * The floor under the CLI's start targets (issue 18): what a Node CLI pays before its first engine
 * call, against what the engine's own CLI pays for its start and one call, interleaved, medians.
 *
 *   node -e 0                      Node's own start
 *   corral --version               Node + corral's bundle entry
 *   corral shell … (to first call) CORRAL_TRACE's "planned" mark: Node, the bundle, config, engine,
 *                                  image check and the plan, before the sandbox's create is sent
 *   <engine> container inspect x   the engine CLI's start and one API round trip
 *
 *   node bench/cli-floor.mjs [--runs 15] [--engines podman,docker]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, engines: { type: 'string', default: 'podman,docker' } },
});
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const ws = realpathSync(mkdtempSync(join(tmpdir(), 'corral-floor-')));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const wall = (cmd, args, env = process.env) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ws, env, stdio: 'ignore' });
  if (r.error) throw r.error;
  return performance.now() - t0;
};
/** Milliseconds from the process's start to CORRAL_TRACE's `planned` mark. */
const toPlanned = (engine) => {
  const r = spawnSync(process.execPath, [bin, 'shell', 'claude', '--no-join', '--', 'true'], {
    cwd: ws,
    env: { ...process.env, CORRAL_ENGINE: engine, CORRAL_TRACE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const m = /\[trace\] planned .*\(at (\d+)ms\)/.exec(String(r.stderr));
  if (r.status !== 0 || !m) throw new Error(`corral shell failed (${r.status}): ${r.stderr}`);
  return Number(m[1]);
};

const rows = [];
for (const engine of values.engines.split(',')) {
  const x = { node: [], version: [], planned: [], engine: [] };
  toPlanned(engine); // warm-up: image, gateway
  for (let i = 0; i < Number(values.runs); i++) {
    x.node.push(wall(process.execPath, ['-e', '0']));
    x.version.push(wall(process.execPath, [bin, '--version']));
    x.planned.push(toPlanned(engine));
    x.engine.push(wall(engine, ['container', 'inspect', 'corral-floor-none']));
  }
  spawnSync(process.execPath, [bin, 'clean'], { cwd: ws, env: { ...process.env, CORRAL_ENGINE: engine } });
  const e = median(x.engine);
  for (const [what, xs] of [
    ['node -e 0', x.node],
    ['corral --version', x.version],
    ['corral shell: start to create sent', x.planned],
    [`${engine} container inspect (CLI start + 1 call)`, x.engine],
  ])
    rows.push({
      engine,
      what,
      median_ms: Math.round(median(xs)),
      over_engine_cli_ms: Math.round(median(xs) - e),
    });
}
console.log(`CLI floor: ${values.runs} interleaved runs, medians`);
console.table(rows);
