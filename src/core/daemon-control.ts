/**
 * Starting, stopping and finding the per-user daemon. Starts are serialised by a lock file, so two
 * `corral daemon start` at once give one daemon; a socket or state file left by a daemon that
 * crashed is cleared before a new one starts; a daemon of another build is restarted (never while
 * a browser or terminal is attached to a sandbox through it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';
import { CorralError } from '../errors.js';
import { BUILD_ID, type DaemonState, daemonCall, daemonRequest, readDaemonState } from './daemon-client.js';
import type { DaemonPaths } from './daemon-paths.js';

const ENTRY = fileURLToPath(new URL('../../bin/corral-daemon.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  socket: string;
  url?: string;
  tokenFile: string;
  logFile: string;
  version?: string;
  build?: string;
  /** Sandboxes a browser or terminal is attached to through the daemon right now. */
  attached?: number;
  /** The daemon runs another build of corral than this command. */
  stale?: boolean;
}

interface VersionAnswer {
  version: string;
  build: string;
  pid: number;
  attached: number;
  url?: string;
}

async function probe(paths: DaemonPaths): Promise<VersionAnswer | undefined> {
  try {
    const res = await daemonRequest(paths, 'GET', '/api/version', undefined, 3000);
    return res.status === 200 ? (res.body as VersionAnswer) : undefined;
  } catch {
    return undefined;
  }
}

export async function daemonStatus(paths: DaemonPaths): Promise<DaemonStatus> {
  const base = { socket: paths.socket, tokenFile: paths.tokenFile, logFile: paths.logFile };
  const v = await probe(paths);
  if (!v) return { running: false, ...base };
  return {
    running: true,
    ...base,
    pid: v.pid,
    ...(v.url ? { url: v.url } : {}),
    version: v.version,
    build: v.build,
    attached: v.attached,
    stale: v.build !== BUILD_ID,
  };
}

export interface StartDaemonInput {
  /** host:port for HTTP (the web UI); undefined: Unix socket only. */
  listen?: string;
  /** Allow a non-loopback listen address. */
  public?: boolean;
  env: NodeJS.ProcessEnv;
}

/** Start the daemon unless one of this build (and the same listen address) already runs. */
export async function startDaemon(
  paths: DaemonPaths,
  input: StartDaemonInput,
): Promise<DaemonStatus & { started: boolean }> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  const release = await lockfile.lock(paths.dir, {
    lockfilePath: paths.lockFile,
    retries: { retries: 60, minTimeout: 100, maxTimeout: 500 },
    stale: 30_000,
  });
  try {
    const current = await daemonStatus(paths);
    if (current.running) {
      const sameListen = !input.listen || sameAddress(current.url, input.listen);
      if (!current.stale && sameListen) return { ...current, started: false };
      if (current.attached) {
        throw new CorralError(
          'DAEMON_FAILED',
          current.stale
            ? `The running daemon is another build of corral (${current.build}), and ${current.attached} sandbox session(s) are attached through it.`
            : `The running daemon listens on ${current.url ?? 'the socket only'}, and ${current.attached} sandbox session(s) are attached through it.`,
          'Detach them (close the browser terminals), or run `corral daemon stop` and start again.',
        );
      }
      await stopDaemon(paths);
    }
    await clearStale(paths);
    await spawnDaemon(paths, input);
    return { ...(await daemonStatus(paths)), started: true };
  } finally {
    await release();
  }
}

function sameAddress(url: string | undefined, listen: string): boolean {
  if (!url) return false;
  const u = new URL(url);
  const [host, port] = splitListen(listen);
  return u.hostname === host && (port === '0' || u.port === port);
}

export function splitListen(listen: string): [string, string] {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(listen);
  if (!m) {
    throw new CorralError(
      'BAD_INPUT',
      `--listen ${listen}: expected HOST:PORT, e.g. 127.0.0.1:7450.`,
      'Use 127.0.0.1:PORT; any other address also needs --public.',
    );
  }
  return [m[1]!, m[2]!];
}

async function spawnDaemon(paths: DaemonPaths, input: StartDaemonInput): Promise<void> {
  const log = await open(paths.logFile, 'a', 0o600);
  const args = [
    ENTRY,
    ...(input.listen ? ['--listen', input.listen] : []),
    ...(input.public ? ['--public'] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
    env: { ...input.env, CORRAL_DAEMON_DIR: paths.dir },
  });
  await log.close();
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const v = await probe(paths);
    if (v?.pid === child.pid) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited === undefined) child.kill('SIGKILL');
  throw new CorralError(
    'DAEMON_FAILED',
    `The daemon did not start: ${await logTail(paths.logFile)}`,
    `Its log: ${paths.logFile}`,
  );
}

async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.trim().split('\n').slice(-3).join(' | ');
  return lines || 'no output';
}

/** Remove a socket and state file whose daemon is gone. */
async function clearStale(paths: DaemonPaths): Promise<void> {
  const state = await readDaemonState(paths);
  if (state && alive(state.pid) && (await probe(paths))) return;
  await rm(paths.socket, { force: true });
  await rm(paths.stateFile, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stop the daemon (asked over the API, then signals); true if one was running. */
export async function stopDaemon(paths: DaemonPaths): Promise<boolean> {
  const state: DaemonState | undefined = await readDaemonState(paths);
  const answering = await probe(paths);
  const pid = answering?.pid ?? state?.pid;
  if (!pid || !alive(pid)) {
    await clearStale(paths);
    return false;
  }
  if (answering) await daemonCall(paths, 'POST', '/api/shutdown').catch(() => undefined);
  for (const [signal, waitMs] of [
    [undefined, 5000],
    ['SIGTERM', 3000],
    ['SIGKILL', 2000],
  ] as const) {
    if (signal) {
      try {
        process.kill(pid, signal);
      } catch {}
    }
    const until = Date.now() + waitMs;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (!alive(pid)) break;
  }
  await clearStale(paths);
  return true;
}

const autoFile = (paths: DaemonPaths) => join(paths.dir, 'auto');

/** `corral daemon start --auto`: commands that benefit start the daemon on demand from then on. */
export async function setDaemonAuto(paths: DaemonPaths, on: boolean): Promise<void> {
  if (on) await writeFile(autoFile(paths), 'on\n', { mode: 0o600 });
  else await rm(autoFile(paths), { force: true });
}

export async function daemonAuto(paths: DaemonPaths): Promise<boolean> {
  return Boolean(await stat(autoFile(paths)).catch(() => undefined));
}

/**
 * After `corral daemon start --auto`: a run starts the daemon if none answers, in the background
 * (a detached `corral daemon start`, which takes the start lock), so the run does not wait for it;
 * the daemon then keeps the run's gateway warm for the next one. Two stats when it is off.
 */
export function autoStartDaemon(paths: DaemonPaths, env: NodeJS.ProcessEnv): void {
  if (!existsSync(autoFile(paths)) || existsSync(paths.socket)) return;
  const child = spawn(process.execPath, [CLI, 'daemon', 'start'], { detached: true, stdio: 'ignore', env });
  child.on('error', () => {});
  child.unref();
}
