#!/usr/bin/env node
/**
 * What an isolation level costs: `corral shell <agent> -- true` (a new sandbox per command, behind
 * the workspace's lingering gateway) and a full scripted Claude Code task (`corral run claude
 * --prompt …` against corral's scripted model: one tool call writing a file, then an answer), each
 * with `--isolation runc` and `--isolation gvisor`, interleaved in one run so machine noise hits
 * both equally. Prints medians and gvisor's ratio and overhead against runc, per engine.
 *
 *   node bench/isolation.mjs [--runs 7] [--engines podman,docker]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    engines: { type: 'string', default: 'podman,docker' },
  },
});
const runs = Number(values.runs);
const LEVELS = ['runc', 'gvisor'];
const bin = resolve(import.meta.dirname, '../bin/corral.js');
// One workspace per level: on rootful Podman a workspace's volumes change owner when its level
// changes (sandbox/volume-owners.ts), which is not what a start on one level costs.
const wsOf = Object.fromEntries(
  LEVELS.map((l) => [l, realpathSync(mkdtempSync(join(tmpdir(), `corral-bench-iso-${l}-`)))]),
);
const script = join(tmpdir(), `corral-bench-iso-${process.pid}.yaml`);
writeFileSync(
  script,
  'turns:\n  - say: Writing the result file.\n    run: echo done > result.txt\n  - text: Wrote result.txt.\n',
);

/** The scripted model server, on a free port; resolves to its URL. */
function startModel() {
  const child = spawn(process.execPath, [bin, 'model', 'serve', '--script', script, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    child.stdout.once('data', (d) => res({ url: JSON.parse(String(d)).url, child }));
    child.once('exit', (c) => rej(new Error(`model server exited (${c})`)));
  });
}

function time(args, env, level) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: wsOf[level],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`corral ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const model = await startModel();
const rows = [];
try {
  for (const engine of values.engines.split(',')) {
    const env = { CORRAL_ENGINE: engine, CORRAL_ISOLATION: '' };
    execFileSync(process.execPath, [bin, 'image', 'build', 'claude'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const task = (level) => [
      'run',
      'claude',
      '--isolation',
      level,
      '--model-url',
      model.url,
      '--prompt',
      'Write result.txt as instructed.',
      '--yolo',
    ];
    const start = (level) => ['shell', 'claude', '--no-join', '--isolation', level, '--', 'true'];
    // Warm-up: the gateway, gVisor's Podman service, the caches; not measured.
    for (const level of LEVELS) {
      time(start(level), env, level);
      time(task(level), env, level);
    }
    const t = { start: { runc: [], gvisor: [] }, task: { runc: [], gvisor: [] } };
    for (let i = 0; i < runs; i++) {
      // Alternate which level goes first, so neither always runs right after the other's work.
      for (const level of i % 2 ? [...LEVELS].reverse() : LEVELS) {
        t.start[level].push(time(start(level), env, level));
        t.task[level].push(time(task(level), env, level));
        rmSync(join(wsOf[level], 'result.txt'), { force: true });
      }
    }
    for (const [what, label] of [
      ['start', 'shell -- true'],
      ['task', 'scripted Claude task'],
    ]) {
      const runc = median(t[what].runc);
      const gvisor = median(t[what].gvisor);
      rows.push({
        engine,
        what: label,
        runc: `${Math.round(runc)} ms`,
        gvisor: `${Math.round(gvisor)} ms`,
        ratio: `${(gvisor / runc).toFixed(2)}×`,
        overhead: `+${Math.round(gvisor - runc)} ms`,
      });
    }
    for (const level of LEVELS)
      spawnSync(process.execPath, [bin, 'clean'], {
        cwd: wsOf[level],
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
  }
} finally {
  model.child.kill();
  rmSync(script, { force: true });
}
console.log(`median of ${runs}, interleaved; ratio and overhead of gvisor against runc in the same run`);
console.table(rows);
