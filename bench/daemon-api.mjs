#!/usr/bin/env node
/**
 * The daemon API under load: N concurrent `GET /api/sandboxes` (a real engine list behind it),
 * against `GET /api/version` on the same daemon as the baseline (auth, routing and JSON, no engine),
 * measured in the same run, and a bare Node HTTP server in its own process answering a fixed JSON
 * body (the floor for any Node server on this machine, client and server sharing its cores).
 * Prints p50/p99 and the ratios. Target: p99 <= 20 ms at N = 200.
 *
 *   node bench/daemon-api.mjs [--concurrency 200] [--rounds 5] [--engine podman]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    engine: { type: 'string', default: 'podman' },
  },
});
const n = Number(values.concurrency);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const dir = mkdtempSync(join(tmpdir(), 'corral-bench-daemon-'));
const env = { ...process.env, CORRAL_DAEMON_DIR: dir, CORRAL_ENGINE: values.engine };
const cli = (...args) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });

const started = cli('daemon', 'start', '--listen', '127.0.0.1:0', '--json');
if (started.status !== 0) throw new Error(started.stderr);
const { url, tokenFile } = JSON.parse(started.stdout);
const token = readFileSync(tokenFile, 'utf8').trim();
const dispatcher = new Agent({ connections: n, pipelining: 1 });

// The floor: Node's http server, nothing else, in a process of its own.
const bare = spawn(
  process.execPath,
  [
    '-e',
    "const s=require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');r.end('[]')});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))",
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const barePort = await new Promise((ok) => bare.stdout.once('data', (d) => ok(Number(String(d)))));

async function once(path) {
  const t0 = performance.now();
  const base = path === 'bare' ? `http://127.0.0.1:${barePort}/` : `${url}${path}`;
  const res = await request(base, { headers: { authorization: `Bearer ${token}` }, dispatcher });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
  return performance.now() - t0;
}

const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const results = { bare: [], '/api/version': [], '/api/sandboxes': [] };
try {
  // Warm-up: connections open, the engine connected.
  await Promise.all(Array.from({ length: n }, () => once('/api/version')));
  await once('/api/sandboxes');
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const path of Object.keys(results)) {
      results[path].push(...(await Promise.all(Array.from({ length: n }, () => once(path)))));
    }
  }
  const [floor, base, list] = Object.values(results);
  console.log(`daemon API, ${n} concurrent requests x ${values.rounds} rounds, engine ${values.engine}`);
  for (const [path, xs] of Object.entries(results))
    console.log(`  ${path.padEnd(16)} p50 ${pct(xs, 50).toFixed(1)} ms  p99 ${pct(xs, 99).toFixed(1)} ms`);
  console.log(
    `  ratio sandboxes/bare: p50 ${(pct(list, 50) / pct(floor, 50)).toFixed(2)}x  p99 ${(pct(list, 99) / pct(floor, 99)).toFixed(2)}x`,
  );
  console.log(
    `  ratio sandboxes/version: p50 ${(pct(list, 50) / pct(base, 50)).toFixed(2)}x  p99 ${(pct(list, 99) / pct(base, 99)).toFixed(2)}x`,
  );
} finally {
  await dispatcher.close();
  bare.kill();
  cli('daemon', 'stop');
}
