/**
 * A private dockerd for one test: its own data root, exec root (and so its own containerd), pid
 * file, socket and bridge, so a test may stop and restart it while the machine's shared dockerd,
 * and every other test on it, go on untouched. corral reaches it the way users point it at a
 * Docker: DOCKER_HOST=unix://… with CORRAL_ENGINE=docker.
 *
 * Networking: a second dockerd with --iptables would remove and recreate the shared DOCKER chains
 * (dropping the shared daemon's rules), so this one runs with --iptables=false, --ip-forward=false
 * and --ip-masq=false and touches no firewall itself. The test owns one address range instead
 * (10.213.0.0/16: its bridge, and the pool its user networks are cut from) and one FORWARD rule
 * letting that range talk to itself: br_netfilter is on here and FORWARD's policy is DROP, so
 * without it a sandbox could not reach its gateway on their shared network. Containers reach the
 * host at the bridge's address (the `host-gateway`), which is INPUT, not FORWARD.
 *
 * Teardown removes every container and network of the daemon, stops it, and then anything of it
 * still left (processes, mounts, the bridge, the rule); `leftovers()` lists what a check finds.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The test-owned range; nothing on this machine routes it (checked before use). */
const RANGE = '10.213.0.0/16';
const BRIDGE_CIDR = '10.213.0.1/24';
const POOL = 'base=10.213.16.0/20,size=24';

export interface PrivateDockerd {
  dir: string;
  socket: string;
  /** DOCKER_HOST for corral and the docker CLI. */
  host: string;
  /** The `docker` CLI on this daemon. */
  docker(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Start (or start again) the daemon; resolves when it answers. */
  start(opts?: { liveRestore?: boolean }): Promise<void>;
  /** Stop it as `systemctl stop docker` would (SIGTERM), or crash it (SIGKILL). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Copy images from the shared dockerd (`docker save | docker load`). */
  loadImages(tags: string[]): Promise<void>;
  /** Everything of this daemon still on the host: processes, mounts, interfaces, rules, files. */
  leftovers(): Promise<string[]>;
  teardown(): Promise<void>;
}

/** Why a private dockerd cannot run here, or undefined when it can. */
export async function privateDockerdUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0)
    return 'a private dockerd needs root (its own mounts, bridge and FORWARD rule)';
  for (const bin of ['dockerd', 'containerd', 'iptables', 'ip'])
    if (!(await run('sh', ['-c', `command -v ${bin}`]).catch(() => undefined)))
      return `${bin} is not installed`;
  const routes = (await run('ip', ['-4', 'route'])).stdout;
  if (/^10\.213\./m.test(routes))
    return `${RANGE} is already routed here: ${routes.match(/^10\.213\.\S+/m)![0]}`;
  return undefined;
}

export async function privateDockerd(): Promise<PrivateDockerd> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  // IFNAMSIZ is 16: "crlt" and up to 10 digits.
  const bridge = `crlt${process.pid}`.slice(0, 15);
  const comment = `corral-test-dockerd-${process.pid}`;
  const RULE = ['FORWARD', '-s', RANGE, '-d', RANGE, '-m', 'comment', '--comment', comment, '-j', 'ACCEPT'];
  const config = join(dir, 'daemon.json');
  // Its own (empty) config: the shared /etc/docker/daemon.json is not this daemon's.
  await writeFile(config, '{}\n');
  let daemon: ChildProcess | undefined;
  let started = false;

  const docker = (args: string[]) => run('docker', ['-H', host, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const answers = async () =>
    (await docker(['version', '--format', '{{.Server.Version}}']).catch(() => undefined)) !== undefined;

  const start = async (opts: { liveRestore?: boolean } = {}) => {
    started = true;
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    daemon = spawn(
      'dockerd',
      [
        '--config-file',
        config,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'dockerd.pid'),
        '-H',
        host,
        '--bridge',
        bridge,
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        '--default-address-pool',
        POOL,
        ...(opts.liveRestore ? ['--live-restore'] : []),
      ],
      { stdio: ['ignore', log, log] },
    );
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      if (daemon.exitCode !== null) break;
      if (await answers()) return;
    }
    const tail = (await readFile(join(dir, 'dockerd.log'), 'utf8').catch(() => ''))
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`the private dockerd did not start:\n${tail}`);
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await exited;
  };

  /** Host processes of this daemon (dockerd, its containerd, the shims): their command line names dir. */
  const processes = async () =>
    (await run('ps', ['-eo', 'pid=,args='])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes(dir) && !/^\d+\s+(ps|grep)\b/.test(l));
  const mounts = async () =>
    (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(dir));
  const interfaces = async () =>
    (await run('ip', ['-br', '-4', 'addr'])).stdout
      .split('\n')
      .filter((l) => l.startsWith(`${bridge} `) || /\s10\.213\./.test(l));
  const rules = async () =>
    (await run('iptables', ['-S', 'FORWARD'])).stdout.split('\n').filter((l) => l.includes(comment));

  const self: PrivateDockerd = {
    dir,
    socket,
    host,
    docker,
    start,
    stop,
    async loadImages(tags) {
      // A pipe of two CLIs: the shared daemon's save into the private one's load.
      await run('sh', ['-c', 'docker save "$@" | docker -H "$DOCKER_PRIVATE" load', 'sh', ...tags], {
        env: { ...process.env, DOCKER_PRIVATE: host },
        maxBuffer: 16 * 1024 * 1024,
      });
    },
    async leftovers() {
      return [
        ...(await processes()).map((p) => `process ${p.slice(0, 120)}`),
        ...(await mounts()).map((m) => `mount ${m}`),
        ...(await interfaces()).map((i) => `interface ${i.split(/\s+/)[0]}`),
        ...(await rules()).map((r) => `iptables ${r}`),
        ...((await readFile(join(dir, 'daemon.json')).catch(() => undefined)) ? [`folder ${dir}`] : []),
      ];
    },
    async teardown() {
      // Everything on this daemon is the test's: containers first (their shims go with them), then
      // networks (their bridges go with them), then the daemon and what it leaves behind.
      if (started && !(await answers())) await start().catch(() => {});
      const ids = (await docker(['ps', '-aq']).catch(() => ({ stdout: '' }))).stdout
        .split('\n')
        .filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]).catch(() => {});
      await docker(['network', 'prune', '-f']).catch(() => {});
      await stop('SIGTERM');
      for (const line of await processes()) {
        const pid = Number(line.split(/\s+/)[0]);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      for (const m of (await mounts()).reverse()) await run('umount', ['-l', m]).catch(() => {});
      for (const i of await interfaces())
        await run('ip', ['link', 'del', i.split(/\s+/)[0]!]).catch(() => {});
      while ((await rules()).length) await run('iptables', ['-D', ...RULE]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', BRIDGE_CIDR, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    await run('iptables', ['-I', ...RULE]);
  } catch (e) {
    await self.teardown();
    throw e;
  }
  return self;
}
