#!/usr/bin/env node
/**
 * Startup overhead of `corral shell <agent> -- true` against a raw `podman run` / `docker run` of the
 * same image, interleaved in one run so machine noise hits both equally. corral paths:
 *   cold+gw     a new sandbox per command (`--no-join`) behind the workspace's egress gateway,
 *               which is not running yet: the run starts it (a first run, or after the linger)
 *   again+gw    the same, run right after the previous run: the gateway still lingers from it
 *               (egress.gateway_linger) and is reused
 *   cold        a new sandbox per command while the gateway is already up (another sandbox runs)
 *   cold open   a new sandbox on the engine's ordinary network (`--network open`, no gateway)
 *   warm        the agent's sandbox is already running here (`corral shell -d`): the command joins it
 * and, as a second baseline, `raw, hardened`: the engine CLI running the container `cold open` starts
 * (the command `--dry-run` prints), so the cost of the hardening shows apart from corral's own.
 * Prints medians, the ratio and the absolute overhead per engine and path.
 *
 *   node bench/startup.mjs --suite paths [--runs 10] [--engines podman,docker] [--agent claude]
 *
 * The default suite (`--suite targets`, bench/startup-targets.mjs) measures issue 18's targets:
 * the default path, the daemon's warm pool and a cold gateway start, on `true` and on a full
 * scripted Claude Code task.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    engines: { type: 'string', default: 'podman,docker' },
    agent: { type: 'string', default: 'claude' },
    suite: { type: 'string', default: 'targets' },
  },
});
if (values.suite === 'targets') {
  await import('./startup-targets.mjs');
  process.exit(0);
}
const runs = Number(values.runs);
const bin = resolve(import.meta.dirname, '../bin/corral.js');
const ws = realpathSync(mkdtempSync(join(tmpdir(), 'corral-bench-')));
const gatewayName = `corral-${createHash('sha256').update(ws).digest('hex').slice(0, 12)}-gateway`;

function time(cmd, args, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd: ws,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
for (const engine of values.engines.split(',')) {
  const env = { CORRAL_ENGINE: engine };
  // Build (or find) the image first; its time is not startup.
  execFileSync(process.execPath, [bin, 'image', 'build', values.agent], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const images = JSON.parse(
    execFileSync(process.execPath, [bin, 'image', 'list', '--json'], {
      env: { ...process.env, ...env },
    }).toString(),
  );
  const image = images.find((i) => i.agent === values.agent && i.current)?.tag;
  if (!image) throw new Error(`no current ${values.agent} image on ${engine}`);
  const coldGw = [];
  const againGw = [];
  const cold = [];
  const open = [];
  const warm = [];
  const raw = [];
  const hard = [];
  const shell = (...extra) =>
    time(process.execPath, [bin, 'shell', values.agent, ...extra, '--', 'true'], env);
  const corral = (...args) =>
    execFileSync(process.execPath, [bin, ...args], {
      cwd: ws,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
  // The same container as `--network open` starts it (user namespace, init, mounts, limits), run
  // by the engine's own CLI: what the hardening costs, apart from corral itself.
  const hardened = execFileSync(
    process.execPath,
    [bin, 'shell', values.agent, '--network', 'open', '--no-join', '--dry-run', '--', 'true'],
    { cwd: ws, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .toString()
    .split('\n')
    .find((l) => l.startsWith(`${engine} run `))
    ?.replace(/ --name \S+/, '');
  if (!hardened) throw new Error(`no ${engine} run line in corral's --dry-run`);
  const rawHardened = () => time('sh', ['-c', `${hardened} </dev/null`]);
  // One warm-up each, not counted.
  shell('--no-join');
  time(engine, ['run', '--rm', image, 'true']);
  rawHardened();
  // Not timed: what `corral stop` or the end of the linger does.
  const dropGateway = () => spawnSync(engine, ['rm', '-f', gatewayName], { stdio: 'ignore' });
  for (let i = 0; i < runs; i++) {
    dropGateway();
    coldGw.push(shell('--no-join'));
    againGw.push(shell('--no-join'));
    raw.push(time(engine, ['run', '--rm', image, 'true']));
  }
  corral('shell', values.agent, '-d', '--', 'sleep', 'infinity');
  try {
    shell();
    for (let i = 0; i < runs; i++) {
      cold.push(shell('--no-join'));
      open.push(shell('--no-join', '--network', 'open'));
      warm.push(shell());
      raw.push(time(engine, ['run', '--rm', image, 'true']));
      hard.push(rawHardened());
    }
  } finally {
    corral('stop', values.agent);
  }
  const r = median(raw);
  rows.push({
    engine,
    path: 'raw, hardened',
    corral_ms: Math.round(median(hard)),
    raw_ms: Math.round(r),
    overhead_ms: Math.round(median(hard) - r),
    ratio: +(median(hard) / r).toFixed(2),
  });
  for (const [path, xs] of [
    ['cold+gw', coldGw],
    ['again+gw', againGw],
    ['cold', cold],
    ['cold open', open],
    ['warm', warm],
  ]) {
    const c = median(xs);
    rows.push({
      engine,
      path,
      corral_ms: Math.round(c),
      raw_ms: Math.round(r),
      overhead_ms: Math.round(c - r),
      ratio: +(c / r).toFixed(2),
    });
  }
}
console.log(
  `startup: corral shell ${values.agent} -- true (cold+gw: new sandbox, gateway starts; again+gw: right after a run, its gateway lingering; cold: new sandbox, gateway up; cold open: no gateway; warm: joins the running one) vs raw <engine> run --rm IMAGE true (median of ${runs}, interleaved)`,
);
console.table(rows);
