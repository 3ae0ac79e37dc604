#!/usr/bin/env node
/**
 * The sandbox forwarder's own cost, on the host: time from spawn to its "ready" line, and its RSS
 * once ready, for the Go relay (dist/gateway/corral-relay) and the Node forwarder it replaces
 * (dist/gateway/forwarder.bundle.mjs on this Node), interleaved, with the arguments a sandbox gives.
 *
 *   node bench/relay-start.mjs [--runs 21]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const dist = (f) => fileURLToPath(new URL(`../dist/gateway/${f}`, import.meta.url));
const paths = {
  go: [dist('corral-relay')],
  node: [process.execPath, dist('forwarder.bundle.mjs')],
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(cmd, dir, port) {
  const sock = join(dir, 'proxy.sock');
  const args = ['--out', `${port}=${sock}`, '--hold', sock, '--services', join(dir, 'services.json')];
  const t0 = performance.now();
  const p = spawn(cmd[0], [...cmd.slice(1), ...args, '--ready', join(dir, 'ready')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: p.stdout })) if (line === 'ready') break;
  const ms = performance.now() - t0;
  // Settled a moment, as in a sandbox while its agent runs.
  await new Promise((r) => setTimeout(r, 100));
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))[1]);
  p.kill();
  await new Promise((r) => p.once('exit', r));
  return { ms, kb };
}

const dir = mkdtempSync(join(tmpdir(), 'corral-relay-bench-'));
const out = { go: [], node: [] };
try {
  for (let i = 0; i < Number(values.runs); i++) {
    for (const [name, cmd] of Object.entries(paths)) out[name].push(await once(cmd, dir, 41000 + i));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const [name, xs] of Object.entries(out)) {
  console.log(
    `${name.padEnd(5)} start→ready median ${median(xs.map((x) => x.ms)).toFixed(1)} ms` +
      ` (min ${Math.min(...xs.map((x) => x.ms)).toFixed(1)}), RSS median ${(median(xs.map((x) => x.kb)) / 1024).toFixed(1)} MB`,
  );
}
