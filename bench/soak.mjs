#!/usr/bin/env node
/**
 * Soak: start/stop cycles, several at once, then a count of everything left behind. Each worker has
 * its own workspace and repeats `corral run claude -d` (behind the workspace's gateway, with its host
 * bridge; Claude Code idles as an MCP server) then `corral stop` (every other one `stop -f`). Afterwards, and again after
 * `corral clean` in each workspace, it counts by label (containers, networks, volumes of these
 * workspaces) and by path (the data dir's gateway folders, sockets and bridge state; host processes
 * that carry this run's data dir). Only each workspace's agent home volume may outlive the cycles
 * (state, by design) until `corral clean`; after it, nothing may be left.
 *
 *   node bench/soak.mjs [--engine podman|docker] [--cycles 200] [--concurrency 10]
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'podman' },
    cycles: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
  },
});
const engine = values.engine;
const cycles = Number(values.cycles);
const concurrency = Number(values.concurrency);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'corral-soak-')));
const data = join(root, 'data');
const env = {
  ...process.env,
  CORRAL_ENGINE: engine,
  CORRAL_CONFIG: join(root, 'config.yaml'),
  CORRAL_DATA_DIR: data,
};
writeFileSync(env.CORRAL_CONFIG, 'network: gateway\n');
const corral = (args, cwd) => run(process.execPath, [bin, ...args], { cwd, env, maxBuffer: 16 << 20 });
const wsIdOf = (ws) => createHash('sha256').update(ws).digest('hex').slice(0, 12);

const workspaces = Array.from({ length: concurrency }, (_, i) => {
  const ws = join(root, `ws${i}`);
  mkdirSync(ws);
  return { ws, id: wsIdOf(ws), name: `corral-soak-${process.pid}-${i}` };
});

/** Everything of these workspaces the engine has, by label. */
async function byLabel() {
  const left = [];
  for (const w of workspaces) {
    const label = `label=io.corral.workspace=${w.id}`;
    for (const [kind, args] of [
      ['container', ['ps', '-a', '--format', '{{.Names}}']],
      ['network', ['network', 'ls', '--format', '{{.Name}}']],
      ['volume', ['volume', 'ls', '--format', '{{.Name}}']],
    ]) {
      const { stdout } = await run(engine, [...args, '--filter', label]);
      for (const n of stdout.trim().split('\n').filter(Boolean)) left.push(`${kind} ${n}`);
    }
  }
  return left;
}

/** Files under a folder (sockets included), relative to it. */
function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${p.slice(dir.length + 1)}${statSync(p).isSocket() ? ' (socket)' : ''}`);
    }
  };
  walk(dir);
  return out;
}

/** By path: the data dir's per-run state, the workspaces' .corral folders, and host processes. */
async function byPath() {
  const left = [];
  for (const sub of ['gateways', 'bridges'])
    for (const f of filesUnder(join(data, sub))) left.push(`file ${sub}/${f}`);
  for (const w of workspaces)
    for (const f of filesUnder(join(w.ws, '.corral'))) left.push(`file ${w.ws}/.corral/${f}`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`CORRAL_DATA_DIR=${data}\0`))
        left.push(
          `process ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 80)}`,
        );
    } catch {}
  }
  return left;
}

let failures = 0;
const failed = [];
const times = [];
let next = 0;
const t0 = performance.now();
async function worker(w) {
  while (next < cycles) {
    // Every other stop kills (`-f`): Claude Code as an MCP server waits out the graceful stop's 10 s.
    const force = next++ % 2 ? ['-f'] : [];
    const started = performance.now();
    try {
      await corral(
        ['run', 'claude', '-d', '--name', w.name, '--', '--strict-mcp-config', 'mcp', 'serve'],
        w.ws,
      );
      await corral(['stop', w.name, ...force], w.ws);
      times.push(performance.now() - started);
    } catch (e) {
      failures++;
      failed.push(
        String(e.stderr || e.message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' | '),
      );
      await corral(['stop', w.name, '-f'], w.ws).catch(() => {});
    }
    if ((failures + times.length) % 20 === 0)
      process.stderr.write(`${failures + times.length}/${cycles} cycles\n`);
  }
}
await Promise.all(workspaces.map(worker));
const wall = (performance.now() - t0) / 1000;

// Only each workspace's agent home may stay until `corral clean` (the gateway goes with `corral stop`).
// Kept by design until `corral clean`: the gateway folder's settings, CA copy and traffic log, and
// each ended detached run's bridge state and log (for `corral list`; pruned after 7 days). Sockets
// and processes never.
const homes = new Set(workspaces.map((w) => `volume corral-${w.id}-claude-default-home`));
const state = /^file (gateways\/[^/]+\/(conf|log|sock)\/[^ ]+|bridges\/[0-9a-f]+\.(json|log))$/;
const found = [...(await byLabel()).filter((l) => !homes.has(l)), ...(await byPath())];
const afterCycles = found.filter((l) => !state.test(l));
const kept = found.length - afterCycles.length;
for (const w of workspaces) await corral(['clean'], w.ws).catch((e) => failed.push(`clean: ${e.stderr}`));
const afterClean = [...(await byLabel()), ...(await byPath())];
rmSync(root, { recursive: true, force: true });

const s = [...times].sort((a, b) => a - b);
console.log(
  `${engine}: ${cycles} start/stop cycles, ${concurrency} at once, in ${wall.toFixed(0)} s: ${failures} failed; ` +
    `cycle p50 ${Math.round(s[Math.floor(s.length / 2)] ?? 0)} ms, max ${Math.round(s.at(-1) ?? 0)} ms`,
);
for (const f of failed.slice(0, 10)) console.log(`  failure: ${f}`);
console.log(
  `left after the cycles (besides the agent homes and ${kept} state files): ${afterCycles.length ? afterCycles.join('; ') : 'nothing'}`,
);
console.log(`left after corral clean: ${afterClean.length ? afterClean.join('; ') : 'nothing'}`);
process.exitCode = failures || afterCycles.length || afterClean.length ? 1 : 0;
