/**
 * A private dockerd for one test, in a network namespace of its own: its own data root, exec root
 * (and so its own containerd), pid file, socket, bridges and firewall, so a test may stop and
 * restart it while the machine's shared dockerd, and every other test on it, go on untouched.
 * corral reaches it the way users point it at a Docker: DOCKER_HOST=unix://… with CORRAL_ENGINE=docker.
 *
 * Why a namespace: dockerd assumes it is the only one on its network stack. At start it removes and
 * recreates the DOCKER iptables chains, and a restarted one that finds its stale default network
 * deletes the interface named `docker0` (moby's configureNetworking → removeDefaultBridgeInterface,
 * whenever default address pools are set and live-restore is off), whatever its own --bridge is:
 * the shared daemon's bridge, so no second dockerd may share the host's stack. In its namespace it
 * runs with its defaults (iptables, NAT; its default bridge named apart from docker0); a veth pair on the test-owned 10.213.255.0/30
 * links it to the host, which its containers reach as `host-gateway` (10.213.255.1, the host's end,
 * so INPUT and never the host's FORWARD) with their traffic masqueraded to the namespace's address.
 *
 * Teardown removes every container of the daemon, stops it, ends anything of it still running and
 * deletes the namespace (its interfaces, firewall and the veth with it); `leftovers()` lists what a
 * check finds on the host.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The link between the host and the daemon's namespace; nothing on this machine routes it (checked). */
const HOST_ADDR = '10.213.255.1';
const NS_ADDR = '10.213.255.2';
const LINK_PREFIX = 30;
/** The namespace's own default bridge (seen only inside it). */
const NS_BRIDGE = '10.213.254.1/24';

export interface PrivateDockerd {
  dir: string;
  socket: string;
  /** DOCKER_HOST for corral and the docker CLI. */
  host: string;
  /** The address containers reach this host at (`host-gateway`). */
  hostAddress: string;
  /** The `docker` CLI on this daemon. */
  docker(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Start (or start again) the daemon; resolves when it answers. */
  start(opts?: { liveRestore?: boolean }): Promise<void>;
  /** Stop it as `systemctl stop docker` would (SIGTERM), or crash it (SIGKILL). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Copy images from the shared dockerd (`docker save | docker load`). */
  loadImages(tags: string[]): Promise<void>;
  /** Everything of this daemon still on the host: processes, mounts, namespace, interfaces, files. */
  leftovers(): Promise<string[]>;
  teardown(): Promise<void>;
}

/** Why a private dockerd cannot run here, or undefined when it can. */
export async function privateDockerdUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'a private dockerd needs root (its own network namespace and mounts)';
  for (const bin of ['dockerd', 'containerd', 'iptables', 'ip', 'nsenter'])
    if (!(await run('sh', ['-c', `command -v ${bin}`]).catch(() => undefined)))
      return `${bin} is not installed`;
  const routes = (await run('ip', ['-4', 'route'])).stdout;
  const taken = routes.match(/^10\.213\.255\.\S+/m);
  if (taken) return `10.213.255.0/30 is already routed here: ${taken[0]}`;
  return undefined;
}

export async function privateDockerd(): Promise<PrivateDockerd> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const netns = `corral-dockerd-${process.pid}`;
  // IFNAMSIZ is 16: the host's end of the veth pair, and the namespace's end.
  const hostEnd = `crlth${process.pid}`.slice(0, 15);
  const nsEnd = `crltn${process.pid}`.slice(0, 15);
  // Its default bridge, made in the namespace under a name of its own: dockerd sees only that
  // namespace's links, and nothing it does by the name `docker0` can meet the host's.
  const nsBridge = `crltb${process.pid}`.slice(0, 15);
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
    // nsenter execs dockerd (same pid) in the namespace. Only the network one: `ip netns exec` would
    // also give it a fresh /sys without the cgroup mounts ("Devices cgroup isn't mounted").
    daemon = spawn(
      'nsenter',
      [
        `--net=/run/netns/${netns}`,
        'dockerd',
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
        nsBridge,
        '--host-gateway-ip',
        HOST_ADDR,
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
      .filter((m) => m.startsWith(dir) || m === `/run/netns/${netns}`);
  const namespaces = async () =>
    (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.split(' ')[0] === netns);
  const interfaces = async () =>
    (await run('ip', ['-br', 'link'])).stdout
      .split('\n')
      .map((l) => l.split(/\s+/)[0]!.split('@')[0]!)
      .filter((i) => i === hostEnd || i === nsEnd);

  const self: PrivateDockerd = {
    dir,
    socket,
    host,
    hostAddress: HOST_ADDR,
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
        ...(await namespaces()).map((n) => `netns ${n}`),
        ...(await interfaces()).map((i) => `interface ${i}`),
        ...((await readFile(config).catch(() => undefined)) ? [`folder ${dir}`] : []),
      ];
    },
    async teardown() {
      // Everything on this daemon is the test's: containers first (their shims go with them), then
      // the daemon, anything of it still running, and the namespace with all its interfaces.
      if (started && !(await answers())) await start().catch(() => {});
      const ids = (await docker(['ps', '-aq']).catch(() => ({ stdout: '' }))).stdout
        .split('\n')
        .filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]).catch(() => {});
      await stop('SIGTERM');
      for (const line of await processes()) {
        try {
          process.kill(Number(line.split(/\s+/)[0]), 'SIGKILL');
        } catch {}
      }
      for (const m of (await mounts()).filter((m) => m.startsWith(dir)).reverse())
        await run('umount', ['-l', m]).catch(() => {});
      if ((await namespaces()).length) await run('ip', ['netns', 'del', netns]);
      // The host's end goes with the namespace's, a moment after it.
      for (let i = 0; i < 20 && (await interfaces()).includes(hostEnd); i++)
        await new Promise((r) => setTimeout(r, 100));
      await run('ip', ['link', 'del', hostEnd]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd]);
    await run('ip', ['link', 'set', nsEnd, 'netns', netns]);
    await run('ip', ['addr', 'add', `${HOST_ADDR}/${LINK_PREFIX}`, 'dev', hostEnd]);
    await run('ip', ['link', 'set', hostEnd, 'up']);
    const inNs = (args: string[]) => run('ip', ['-n', netns, ...args]);
    await inNs(['link', 'set', 'lo', 'up']);
    await inNs(['addr', 'add', `${NS_ADDR}/${LINK_PREFIX}`, 'dev', nsEnd]);
    // No default route: the namespace reaches the host's end of the link and nothing beyond it.
    await inNs(['link', 'set', nsEnd, 'up']);
    await inNs(['link', 'add', nsBridge, 'type', 'bridge']);
    await inNs(['addr', 'add', NS_BRIDGE, 'dev', nsBridge]);
    await inNs(['link', 'set', nsBridge, 'up']);
  } catch (e) {
    await self.teardown();
    throw e;
  }
  return self;
}
