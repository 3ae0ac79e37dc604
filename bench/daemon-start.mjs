#!/usr/bin/env node
/**
 * A full scripted Claude Code task (write hello.txt with a shell tool, then answer), started three
 * ways, interleaved in one run so machine noise hits all equally:
 *   raw      the engine CLI running corral's own hardened container for the task (the `podman run`
 *            line `corral run --network open --dry-run` prints): the baseline
 *   daemon   POST /api/sandboxes {prompt, modelUrl, wait: true} to a running daemon: behind the
 *            workspace's egress gateway, which the daemon keeps warm, with the host bridge
 *            served in the daemon
 *   cli      `corral run claude -p … --model-url …` behind the gateway (lingering from the last run)
 * Prints medians, ratios against raw and the absolute overhead per engine.
 *
 *   node bench/daemon-start.mjs [--runs 7] [--engines podman,docker]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, engines: { type: 'string', default: 'podman,docker' } },
});
const runs = Number(values.runs);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const PROMPT = 'Create hello.txt in the current folder with a greeting that says who you are running as.';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The scripted model, on the host (the default script: one shell tool call, then an answer).
const model = spawn(process.execPath, [bin, 'model', 'serve', '--port', '0', '--json'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const modelUrl = await new Promise((ok, fail) => {
  model.stdout.once('data', (d) => ok(JSON.parse(String(d)).url));
  model.once('exit', () => fail(new Error('model server exited')));
});

const rows = [];
try {
  for (const engine of values.engines.split(',')) {
    const ws = realpathSync(mkdtempSync(join(tmpdir(), 'corral-bench-daemon-')));
    const dir = mkdtempSync(join(tmpdir(), 'corral-bench-daemond-'));
    const env = {
      ...process.env,
      CORRAL_ENGINE: engine,
      CORRAL_DAEMON_DIR: dir,
      ANTHROPIC_API_KEY: 'corral-scripted',
    };
    const cli = (args, opts = {}) =>
      execFileSync(process.execPath, [bin, ...args], { cwd: ws, env, ...opts });
    const hello = join(ws, 'hello.txt');
    const check = (what) => {
      if (!existsSync(hello)) throw new Error(`${what}: no hello.txt`);
      rmSync(hello);
    };
    const time = (fn) => {
      const t0 = performance.now();
      return Promise.resolve(fn()).then(() => performance.now() - t0);
    };
    const runLine = cli(
      ['run', 'claude', '--yolo', '--network', 'open', '--model-url', modelUrl, '-p', PROMPT, '--dry-run'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    )
      .toString()
      .split('\n')
      .find((l) => l.startsWith(`${engine} run `))
      ?.replace(/ --name \S+/, '');
    if (!runLine) throw new Error('no run line in --dry-run');
    // What the dry run does before its run line (the home volume; on Docker as root, the ACL that
    // lets the sandbox user write the workspace), once, as setup; not timed.
    const lines = cli(
      ['run', 'claude', '--yolo', '--network', 'open', '--model-url', modelUrl, '-p', PROMPT, '--dry-run'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    )
      .toString()
      .split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${engine} run `));
    // Before every raw run (corral's own runs take the ACL away again when they end).
    const prepare = () => {
      for (const l of lines.slice(0, at).filter((x) => x && !x.startsWith('#')))
        spawnSync('sh', ['-c', l], { stdio: 'ignore' });
    };
    const raw = () => {
      prepare();
      const t0 = performance.now();
      const r = spawnSync('sh', ['-c', `${runLine} </dev/null`], { env, stdio: 'ignore' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`raw run failed on ${engine} (${r.status})`);
      check(`raw on ${engine}`);
      return ms;
    };
    const started = JSON.parse(cli(['daemon', 'start', '--listen', '127.0.0.1:0', '--json']).toString());
    const token = readFileSync(started.tokenFile, 'utf8').trim();
    const viaDaemon = async () => {
      const res = await fetch(`${started.url}/api/sandboxes`, {
        signal: AbortSignal.timeout(120_000),
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          agent: 'claude',
          workdir: ws,
          prompt: PROMPT,
          modelUrl,
          yolo: true,
          wait: true,
        }),
      });
      const body = await res.json();
      if (res.status !== 201 || body.exitCode !== 0) throw new Error(`daemon run: ${JSON.stringify(body)}`);
      check('daemon');
    };
    const viaCli = () => {
      cli(['run', 'claude', '--yolo', '--model-url', modelUrl, '-p', PROMPT], { stdio: 'ignore' });
      check('cli');
    };
    const xs = { raw: [], daemon: [], cli: [] };
    try {
      // Warm-up (images, volumes, the gateway), not counted.
      raw();
      await viaDaemon();
      viaCli();
      for (let i = 0; i < runs; i++) {
        xs.raw.push(raw());
        xs.daemon.push(await time(viaDaemon));
        xs.cli.push(await time(viaCli));
      }
    } finally {
      cli(['daemon', 'stop'], { stdio: 'ignore' });
      cli(['clean'], { stdio: 'ignore' });
    }
    const r = median(xs.raw);
    for (const path of ['raw', 'daemon', 'cli']) {
      const m = median(xs[path]);
      rows.push({
        engine,
        path,
        median_ms: Math.round(m),
        overhead_ms: Math.round(m - r),
        ratio: +(m / r).toFixed(2),
      });
    }
  }
} finally {
  model.kill();
}
console.log(`A scripted Claude Code task, ${runs} interleaved runs per path (medians)`);
console.table(rows);
