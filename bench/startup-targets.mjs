#!/usr/bin/env node
/**
 * Issue 18's start targets, interleaved per engine against a raw `<engine> run` of the same image
 * doing the same work, measured in the same run (so the machine's load hits every path alike):
 *
 * on `true` (baseline: `<engine> run --rm IMAGE true`)
 *   default      `corral shell claude --no-join -- true`, no daemon, the gateway lingering   ≤ +100 ms
 *   warm         the same with a daemon running: the run takes its warm-pool sandbox         ≤ +30 ms
 *   cold+gw      no daemon, the workspace's gateway removed first: the run starts it          ≤ +300 ms
 *   hand-over    no daemon, the gateway lingering with other settings (a new --allow-host)    (shown)
 * on a full scripted Claude Code task (baseline: the engine CLI running corral's own container for
 * the task, `--network open`, as `corral run … --dry-run` prints it)
 *   default      `corral run claude -p … --model-url …`, no daemon, gateway lingering          ≤ 1.10×
 *   warm         the same with a daemon running (CLI → daemon's pool)                          ≤ 1.05×
 *   daemon       POST /api/sandboxes {prompt, wait} to the daemon (web UI, API)                ≤ 1.05×
 *
 *   node bench/startup.mjs [--runs 7] [--engines podman,docker]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    engines: { type: 'string', default: 'podman,docker' },
    agent: { type: 'string', default: 'claude' },
    suite: { type: 'string', default: 'targets' },
    trace: { type: 'string' },
  },
});
const runs = Number(values.runs);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const PROMPT = 'Create hello.txt in the current folder with a greeting that says who you are running as.';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const tmp = (p) => realpathSync(mkdtempSync(join(tmpdir(), p)));
const wsId = (ws) => createHash('sha256').update(ws).digest('hex').slice(0, 12);

const model = spawn(process.execPath, [bin, 'model', 'serve', '--port', '0', '--json'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const modelUrl = await new Promise((ok, fail) => {
  model.stdout.once('data', (d) => ok(JSON.parse(String(d)).url));
  model.once('exit', () => fail(new Error('model server exited')));
});

const rows = [];
// --trace FILE: every corral run's CORRAL_TRACE lines, in order, to see where a path's time went.
const traces = [];
const timed = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
try {
  for (const engine of values.engines.split(',')) {
    // Each path in a workspace of its own: "the gateway lingering" means from that path's previous
    // run, as for a user running the same command again; shared, every run followed another's
    // settings (and the daemon's pool sandbox) and paid a hand-over. `handover` measures that case.
    const ws = tmp('corral-bench-t-');
    const wsWarm = tmp('corral-bench-w-');
    const wsCold = tmp('corral-bench-c-');
    const wsHand = tmp('corral-bench-h-');
    const wsTask = tmp('corral-bench-task-');
    const wsWarmTask = tmp('corral-bench-wtask-');
    const wsApi = tmp('corral-bench-api-');
    const spaces = [ws, wsWarm, wsCold, wsHand, wsTask, wsWarmTask, wsApi];
    const daemonDir = mkdtempSync(join(tmpdir(), 'corral-bench-d-'));
    const noDaemon = mkdtempSync(join(tmpdir(), 'corral-bench-nod-'));
    const base = {
      ...process.env,
      CORRAL_ENGINE: engine,
      ANTHROPIC_API_KEY: 'corral-scripted',
      ...(values.trace ? { CORRAL_TRACE: '1' } : {}),
    };
    const envCold = { ...base, CORRAL_DAEMON_DIR: noDaemon };
    const envWarm = { ...base, CORRAL_DAEMON_DIR: daemonDir };
    const run = (cmd, args, opts) => {
      const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      if (opts?.env?.CORRAL_TRACE) traces.push(`# ${args.join(' ')}\n${r.stderr}`);
    };
    const corral = (args, env, cwd = ws) => run(process.execPath, [bin, ...args], { env, cwd });
    execFileSync(process.execPath, [bin, 'image', 'build', values.agent], { env: envCold, stdio: 'ignore' });
    const image = JSON.parse(
      execFileSync(process.execPath, [bin, 'image', 'list', '--json'], { env: envCold }).toString(),
    ).find((i) => i.agent === values.agent && i.current)?.tag;
    const hello = (dir) => {
      const f = join(dir, 'hello.txt');
      if (!existsSync(f)) throw new Error(`no hello.txt in ${dir}`);
      rmSync(f);
    };
    const taskArgs = ['run', 'claude', '--yolo', '--model-url', modelUrl, '-p', PROMPT];
    const dry = execFileSync(process.execPath, [bin, ...taskArgs, '--network', 'open', '--dry-run'], {
      cwd: wsTask,
      env: envCold,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .split('\n');
    const at = dry.findIndex((l) => l.startsWith(`${engine} run `));
    const rawTaskLine = dry[at].replace(/ --name \S+/, '');
    // The dry run's preparation (volume, Docker's ACL) before each raw run, untimed.
    const prepare = () => {
      for (const l of dry.slice(0, at).filter((x) => x && !x.startsWith('#')))
        spawnSync('sh', ['-c', l], { stdio: 'ignore', cwd: wsTask });
    };
    const rawTask = () => {
      prepare();
      const ms = timed(() => run('sh', ['-c', `${rawTaskLine} </dev/null`], { cwd: wsTask, env: envCold }));
      hello(wsTask);
      return ms;
    };
    const rawTrue = () => timed(() => run(engine, ['run', '--rm', image, 'true'], {}));
    const shellTrue = (env, cwd = ws, extra = []) =>
      timed(() => corral(['shell', 'claude', '--no-join', ...extra, '--', 'true'], env, cwd));
    const coldGw = () => {
      spawnSync(engine, ['rm', '-f', `corral-${wsId(wsCold)}-gateway`], { stdio: 'ignore' });
      return shellTrue(envCold, wsCold);
    };
    // A run whose egress settings differ from the lingering gateway's: it hands them over.
    let flip = 0;
    const handover = () => shellTrue(envCold, wsHand, ['--allow-host', String(40000 + (flip++ % 2))]);
    const task = (env, cwd) => {
      const ms = timed(() => corral(taskArgs, env, cwd));
      hello(cwd);
      return ms;
    };
    const started = JSON.parse(
      execFileSync(process.execPath, [bin, 'daemon', 'start', '--listen', '127.0.0.1:0', '--json'], {
        env: envWarm,
      }).toString(),
    );
    const token = readFileSync(started.tokenFile, 'utf8').trim();
    const viaApi = async () => {
      const t0 = performance.now();
      const res = await fetch(`${started.url}/api/sandboxes`, {
        signal: AbortSignal.timeout(120_000),
        method: 'POST',
        // A fresh connection each time: an iteration can outlast the daemon's keep-alive here.
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          connection: 'close',
        },
        body: JSON.stringify({
          agent: 'claude',
          workdir: wsApi,
          prompt: PROMPT,
          modelUrl,
          yolo: true,
          wait: true,
        }),
      });
      const body = await res.json();
      const ms = performance.now() - t0;
      if (res.status !== 201 || body.exitCode !== 0) throw new Error(`daemon run: ${JSON.stringify(body)}`);
      hello(wsApi);
      return ms;
    };
    const x = {
      rawTrue: [],
      defTrue: [],
      warmTrue: [],
      coldGw: [],
      handTrue: [],
      rawTask: [],
      defTask: [],
      warmTask: [],
      apiTask: [],
    };
    // Let the pool refill between takes, as it does between a user's runs.
    const settle = () => new Promise((r) => setTimeout(r, 1500));
    try {
      // Warm-up, not counted: images, volumes, gateways, the pools' first fill.
      rawTrue();
      shellTrue(envCold);
      shellTrue(envWarm, wsWarm);
      handover();
      rawTask();
      task(envCold, wsTask);
      task(envWarm, wsWarmTask);
      await viaApi();
      await settle();
      for (let i = 0; i < runs; i++) {
        x.rawTrue.push(rawTrue());
        x.defTrue.push(shellTrue(envCold));
        x.warmTrue.push(shellTrue(envWarm, wsWarm));
        x.coldGw.push(coldGw());
        x.handTrue.push(handover());
        x.rawTask.push(rawTask());
        x.defTask.push(task(envCold, wsTask));
        x.warmTask.push(task(envWarm, wsWarmTask));
        x.apiTask.push(await viaApi());
        await settle();
      }
    } finally {
      spawnSync(process.execPath, [bin, 'daemon', 'stop'], { env: envWarm, stdio: 'ignore' });
      for (const cwd of spaces)
        spawnSync(process.execPath, [bin, 'clean'], { env: envCold, cwd, stdio: 'ignore' });
    }
    const row = (work, path, xs, baseline, target) => {
      const m = median(xs);
      const b = median(baseline);
      rows.push({
        engine,
        work,
        path,
        median_ms: Math.round(m),
        raw_ms: Math.round(b),
        plus_ms: Math.round(m - b),
        ratio: +(m / b).toFixed(2),
        target,
      });
    };
    row('true', 'raw', x.rawTrue, x.rawTrue, '');
    row('true', 'default (gw lingering)', x.defTrue, x.rawTrue, '≤ +100 ms');
    row('true', 'warm pool (daemon)', x.warmTrue, x.rawTrue, '≤ +30 ms');
    row('true', 'cold, gateway starts', x.coldGw, x.rawTrue, '≤ +300 ms');
    row('true', 'default, new egress rule (hand-over)', x.handTrue, x.rawTrue, '');
    row('claude task', 'raw', x.rawTask, x.rawTask, '');
    row('claude task', 'default (gw lingering)', x.defTask, x.rawTask, '≤ 1.10×');
    row('claude task', 'warm pool, CLI → daemon', x.warmTask, x.rawTask, '≤ 1.05×');
    row('claude task', 'daemon API (warm pool)', x.apiTask, x.rawTask, '≤ 1.05×');
  }
} finally {
  model.kill();
  if (values.trace) writeFileSync(values.trace, traces.join('\n'));
}
console.log(`startup targets: ${runs} interleaved runs per path; medians; baseline measured in the same run`);
console.table(rows);
