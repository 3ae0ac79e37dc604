#!/usr/bin/env node
/**
 * Many sandboxes at once: sandboxes are started one after another, each in its own workspace
 * behind that workspace's egress gateway, with an idle agent (Claude Code as an MCP server waiting
 * on its terminal, so the run also has its host bridge). At each checkpoint N (all N running):
 *   memory    what corral adds per workspace: the gateway container (every process in its cgroup,
 *             and the cgroup's own count), the host bridge process, the forwarder in the sandbox;
 *             RSS and PSS (shared pages split between the processes sharing them) from
 *             /proc/PID/smaps_rollup, measured idle and again after the load below
 *   start     each sandbox's `corral run -d` time, the Nth against the first
 *   latency   every sandbox at once sends R requests through its gateway to a test-owned upstream
 *             on this host (reached by the host alias with --allow-host); curl's time_total, p50
 *             and p99 over all of them, against one sandbox alone
 * With --daemon a `corral daemon` runs (started here, with the warm pool off so only bridges are
 * measured) and serves every run's host bridge in its own process: the bridge part is then the
 * daemon's PSS split over the N workspaces (its whole footprint, not only what the sessions add;
 * what they add is reported too, against the daemon with no session).
 * Writes docs/scale-<engine>.png (an SVG drawn here, turned into PNG by rsvg-convert) and
 * docs/scale-<engine>.json, and removes everything it started (checked by label and path).
 *
 *   node bench/scale.mjs [--engine podman|docker] [--n 10,25,50] [--requests 40] [--daemon] [--out NAME]
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { drawScaleSvg } from './scale-graph.mjs';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'podman' },
    n: { type: 'string', default: '10,25,50' },
    requests: { type: 'string', default: '40' },
    daemon: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const withDaemon = values.daemon;
const engine = values.engine;
const checkpoints = values.n.split(',').map(Number);
const requests = Number(values.requests);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const docs = resolve(import.meta.dirname, '../docs');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'corral-scale-')));
const tag = `corral-scale-${process.pid}`;
const env = {
  ...process.env,
  CORRAL_ENGINE: engine,
  CORRAL_CONFIG: join(root, 'config.yaml'),
  CORRAL_DATA_DIR: join(root, 'data'),
  CORRAL_DAEMON_DIR: join(root, 'daemon'),
};
writeFileSync(
  env.CORRAL_CONFIG,
  withDaemon ? 'network: gateway\ndaemon:\n  warm_pool: 0\n' : 'network: gateway\n',
);

const wsIdOf = (ws) => createHash('sha256').update(ws).digest('hex').slice(0, 12);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : Number.NaN;
};
const median = (xs) => pct(xs, 50);
const mb = (kb) => Math.round(kb / 102.4) / 10;

/** RSS, PSS and anonymous PSS of a process, in kB (0s when it is gone). */
function smaps(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return { rss: get('Rss'), pss: get('Pss'), anon: get('Pss_Anon') };
  } catch {
    return { rss: 0, pss: 0, anon: 0 };
  }
}
const add = (a, b) => ({ rss: a.rss + b.rss, pss: a.pss + b.pss, anon: a.anon + b.anon });
const ZERO = { rss: 0, pss: 0, anon: 0 };
const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

/** The memory cgroup (v1 or v2) a process is in: its processes and the kernel's usage count. */
function cgroupOf(pid) {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => /:memory:/.test(l));
  const dir = v1
    ? `/sys/fs/cgroup/memory${v1.split(':')[2]}`
    : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::'))?.slice(3) ?? ''}`;
  const read = (f) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  const procs = read('cgroup.procs').trim().split('\n').filter(Boolean).map(Number);
  const stat = read('memory.stat');
  const field = (k) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0) / 1024;
  // v1: rss (anonymous) + cache; v2: anon + file.
  return {
    procs,
    anonKb: field('total_rss') || field('anon'),
    cacheKb: field('total_cache') || field('file'),
  };
}

async function containerPid(name) {
  const { stdout } = await run(engine, ['inspect', '-f', '{{.State.Pid}}', name]);
  return Number(stdout.trim());
}

function corral(args, cwd) {
  return run(process.execPath, [bin, ...args], { cwd, env, maxBuffer: 16 << 20 });
}

// The test-owned upstream: answers every request at once; the sandboxes reach it as the host alias.
const upstream = createServer((_q, s) => s.end('ok'));
await new Promise((r) => upstream.listen(0, '0.0.0.0', r));
const port = upstream.address().port;

const sandboxes = []; // { name, ws, id, startMs }
async function startOne(i) {
  const ws = join(root, `ws${i}`);
  mkdirSync(ws);
  const name = `${tag}-${i}`;
  const t0 = performance.now();
  // `mcp serve` keeps Claude Code idle on its terminal; --strict-mcp-config ends corral's
  // --mcp-config list, so the run still gets its host bridge (the agent's own command runs).
  await corral(
    [
      'run',
      'claude',
      '-d',
      '--name',
      name,
      '--allow-host',
      String(port),
      '--',
      '--strict-mcp-config',
      'mcp',
      'serve',
    ],
    ws,
  );
  const startMs = performance.now() - t0;
  sandboxes.push({ name, ws, id: wsIdOf(ws), startMs });
  return startMs;
}

/** Every sandbox sends `requests` requests at the same moment; curl's time_total in ms. */
async function load(set) {
  const at = Math.ceil(Date.now() / 1000) + 2 + Math.ceil(set.length * 0.15);
  const url = `http://host.containers.internal:${port}/`;
  // Three untimed requests first: the first through a fresh gateway pays for its warm-up.
  const script = `for i in 1 2 3; do curl -s -o /dev/null -m 30 ${url}; done; while [ "$(date +%s)" -lt ${at} ]; do sleep 0.05; done; i=0; while [ $i -lt ${requests} ]; do i=$((i+1)); curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\\n' ${url}; done`;
  const outs = await Promise.all(set.map((s) => run(engine, ['exec', s.name, 'sh', '-c', script])));
  const ms = [];
  let failed = 0;
  for (const { stdout } of outs)
    for (const line of stdout.trim().split('\n')) {
      const [code, t] = line.split(' ');
      if (code === '200') ms.push(Number(t) * 1000);
      else failed++;
    }
  return { p50: median(ms), p99: pct(ms, 99), count: ms.length, failed };
}

function bridgePids() {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('bridge serve'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(
          `CORRAL_DATA_DIR=${env.CORRAL_DATA_DIR}\0`,
        );
      } catch {
        return false;
      }
    });
}

/** The daemon's pid, when this bench started one. */
function daemonPid() {
  try {
    return JSON.parse(readFileSync(join(env.CORRAL_DAEMON_DIR, 'daemon.json'), 'utf8')).pid;
  } catch {
    return undefined;
  }
}
let daemonAlone = ZERO;

/** Per-workspace memory (kB), averaged over the running sandboxes. */
async function memory(set) {
  let gateway = ZERO;
  let gatewayCgroup = 0;
  let forwarder = ZERO;
  let agent = ZERO;
  for (const s of set) {
    const gw = cgroupOf(await containerPid(`corral-${s.id}-gateway`));
    gateway = gw.procs.map(smaps).reduce(add, gateway);
    gatewayCgroup += gw.anonKb + gw.cacheKb;
    for (const pid of cgroupOf(await containerPid(s.name)).procs) {
      // The Go relay (corral-relay), or the Node forwarder it falls back to: by the program run,
      // not by the start script's text (which names both).
      const [exe = '', script = ''] = cmdline(pid).split(' ');
      if (/corral-relay$/.test(exe) || script.endsWith('forwarder.mjs'))
        forwarder = add(forwarder, smaps(pid));
      else agent = add(agent, smaps(pid));
    }
  }
  const bridges = bridgePids();
  const pid = daemonPid();
  const daemon = pid ? smaps(pid) : ZERO;
  // The daemon serves every workspace's bridge: its whole footprint is split over them.
  const bridge = add(bridges.map(smaps).reduce(add, ZERO), daemon);
  const per = (m) => ({ rss: m.rss / set.length, pss: m.pss / set.length, anon: m.anon / set.length });
  return {
    gateway: per(gateway),
    gatewayCgroupKb: gatewayCgroup / set.length,
    bridge: per(bridge),
    bridges: bridges.length,
    ...(pid
      ? {
          daemon,
          daemonAlone,
          // What each session adds to the daemon, over the daemon serving none.
          daemonPerSession: per({
            rss: daemon.rss - daemonAlone.rss,
            pss: daemon.pss - daemonAlone.pss,
            anon: daemon.anon - daemonAlone.anon,
          }),
        }
      : {}),
    forwarder: per(forwarder),
    agent: per(agent),
  };
}

/**
 * CPU the engine's service spends over `ms` while every sandbox idles (ms of CPU per second): what
 * watching N sandboxes costs it. The shared engine's other work is in it too.
 */
async function engineCpu(ms = 10_000) {
  const pattern = engine === 'podman' ? 'podman system service .*unix:///run/podman/podman.sock' : '^dockerd';
  const pid = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n')[0];
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const t0 = ticks();
  await new Promise((r) => setTimeout(r, ms));
  return ((ticks() - t0) * 10) / (ms / 1000);
}

const corralPer = (m) => ({
  rss: m.gateway.rss + m.bridge.rss + m.forwarder.rss,
  pss: m.gateway.pss + m.bridge.pss + m.forwarder.pss,
});

async function cleanup() {
  const names = sandboxes.map((s) => s.name);
  for (let i = 0; i < names.length; i += 8)
    await Promise.all(
      names.slice(i, i + 8).map((n, j) => corral(['stop', n, '-f'], sandboxes[i + j].ws).catch(() => {})),
    );
  for (let i = 0; i < sandboxes.length; i += 8)
    await Promise.all(sandboxes.slice(i, i + 8).map((s) => corral(['clean'], s.ws).catch(() => {})));
  upstream.close();
  const left = [];
  for (const s of sandboxes) {
    const label = `label=io.corral.workspace=${s.id}`;
    for (const what of [
      ['ps', '-a'],
      ['network', 'ls'],
      ['volume', 'ls'],
    ]) {
      const { stdout } = await run(engine, [...what, '-q', '--filter', label]);
      if (stdout.trim()) left.push(`${what[0]} ${stdout.trim().split('\n').join(',')} of ${s.id}`);
    }
  }
  if (bridgePids().length) left.push(`bridge processes ${bridgePids().join(',')}`);
  if (withDaemon) await corral(['daemon', 'stop'], root).catch(() => {});
  if (existsSync(join(env.CORRAL_DATA_DIR, 'gateways'))) {
    const g = execFileSync('ls', [join(env.CORRAL_DATA_DIR, 'gateways')], { encoding: 'utf8' }).trim();
    if (g) left.push(`gateway folders ${g}`);
  }
  rmSync(root, { recursive: true, force: true });
  return left;
}
process.on('SIGINT', () => cleanup().finally(() => process.exit(130)));

const result = {
  engine,
  daemon: withDaemon,
  date: new Date().toISOString(),
  requests,
  load: `${execFileSync('uptime', { encoding: 'utf8' }).trim()}`,
  checkpoints: [],
};
try {
  // The image is built or found before anything is timed.
  execFileSync(process.execPath, [bin, 'image', 'build', 'claude'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (withDaemon) {
    await corral(['daemon', 'start'], root);
    await new Promise((r) => setTimeout(r, 2000));
    daemonAlone = smaps(daemonPid());
    console.log(`daemon alone: PSS ${mb(daemonAlone.pss)} MB (RSS ${mb(daemonAlone.rss)})`);
  }
  await startOne(1);
  const alone = await load(sandboxes);
  result.alone = alone;
  console.log(`1 sandbox alone: p50 ${alone.p50.toFixed(1)} ms, p99 ${alone.p99.toFixed(1)} ms`);
  for (const n of checkpoints) {
    while (sandboxes.length < n) {
      const ms = await startOne(sandboxes.length + 1);
      process.stderr.write(`started ${sandboxes.length}/${n} in ${Math.round(ms)} ms\n`);
    }
    const idle = await memory(sandboxes);
    const engineCpuMsPerS = await engineCpu();
    const lat = await load(sandboxes);
    const busy = await memory(sandboxes);
    const starts = sandboxes.map((s) => s.startMs);
    const cp = {
      n,
      idle,
      busy,
      latency: lat,
      firstMs: starts[0],
      nthMs: starts[n - 1],
      medianMs: median(starts),
    };
    result.checkpoints.push(cp);
    const c = corralPer(idle);
    const cb = corralPer(busy);
    console.log(
      `N=${n}: corral per workspace idle PSS ${mb(c.pss)} MB (RSS ${mb(c.rss)}), after load PSS ${mb(cb.pss)} MB` +
        ` [gateway ${mb(idle.gateway.pss)} (cgroup ${mb(idle.gatewayCgroupKb)}), bridge ${mb(idle.bridge.pss)} (${idle.bridges} procs${idle.daemon ? `; daemon ${mb(idle.daemon.pss)} MB PSS in all, +${mb(idle.daemonPerSession.pss)} per session` : ''}), forwarder ${mb(idle.forwarder.pss)}; agent ${mb(idle.agent.pss)}]` +
        `; engine service CPU while idle ${Math.round(engineCpuMsPerS)} ms/s` +
        `; start 1st ${Math.round(cp.firstMs)} ms, ${n}th ${Math.round(cp.nthMs)} ms (${(cp.nthMs / cp.firstMs).toFixed(2)}×)` +
        `; latency p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms over ${lat.count} requests (${lat.failed} failed)`,
    );
  }
  result.startsMs = sandboxes.map((s) => Math.round(s.startMs));
} finally {
  const left = await cleanup();
  result.leftovers = left;
  console.log(
    left.length
      ? `LEFT BEHIND: ${left.join('; ')}`
      : 'cleaned up: nothing left (labels, bridge processes, gateway folders)',
  );
}
mkdirSync(docs, { recursive: true });
const outName = values.out ?? `scale-${engine}${withDaemon ? '-daemon' : ''}`;
writeFileSync(join(docs, `${outName}.json`), `${JSON.stringify(result, null, 1)}\n`);
const svg = drawScaleSvg(result);
const svgPath = join(root.replace(/\/?$/, ''), '..', `${tag}.svg`);
writeFileSync(svgPath, svg);
execFileSync('rsvg-convert', ['-o', join(docs, `${outName}.png`), svgPath]);
rmSync(svgPath);
console.log(`wrote docs/${outName}.png and docs/${outName}.json`);
