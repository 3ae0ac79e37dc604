/**
 * Starting the bridge of a detached run (`corral run -d`) as its own small host process, which
 * outlives the `corral run` that started it and ends with the sandbox. The token's digest and the
 * settings go over an IPC channel (never argv, which `ps` shows); the channel is closed once the
 * process watches the container, and from then on nothing ties it to the starting terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineReconnect } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { bridgeDaemonEnv, bridgeSettings } from './host-env.js';
import { bridgeLogPath } from './session-state.js';

export interface DaemonConfig {
  workspace: string;
  session: string;
  /** The sha256 (hex) of the token the sandbox presents: the host never needs the token itself. */
  tokenSha256: string;
  socketPath: string;
  agent: string;
  /** The sandbox container's name (its id is sent once it exists). */
  container: string;
  /** The engine's endpoint, so the process talks to the same engine as the run. */
  engine: string;
  /** How to connect to it where the endpoint cannot say (Kubernetes: settings, context, kubeconfig). */
  reconnect?: EngineReconnect;
  /**
   * The engine carries the socket into its pods itself (Kubernetes: relaySocket): the bridge
   * listens beside the gateway's folders, where no container sees it, and the engine serves it at
   * `socketPath` for as long as the session lasts.
   */
  relayed?: boolean;
  approvalTimeoutMs: number;
  /** The starting terminal, for a bell and a line when no desktop notification works. */
  notifyTty?: string;
}

export type ToDaemon = { type: 'start'; config: DaemonConfig } | { type: 'watch'; id: string };
export type FromDaemon = { type: 'ready' } | { type: 'watching' } | { type: 'error'; message: string };

const BIN = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export interface DaemonHandle {
  pid: number;
  log: string;
  /** Resolves when the bridge listens; rejects (and the process is stopped) when it cannot. */
  ready: Promise<void>;
  /** Hand over the started container; the process then runs on its own. */
  watch(id: string): Promise<void>;
  /** The run failed before the container started: stop the process. */
  abort(): void;
}

function reply(child: ChildProcess, want: FromDaemon['type'], log: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      const tail = readTail(log);
      reject(
        new CorralError(
          'BRIDGE_FAILED',
          `The host bridge for this detached run did not start: ${why}${tail ? `\n${tail}` : ''}`,
          `See ${log}.`,
        ),
      );
    };
    const onMessage = (m: FromDaemon) => {
      if (m.type === want) {
        cleanup();
        resolve();
      } else if (m.type === 'error') fail(m.message);
    };
    const onExit = (code: number | null) => fail(`it exited (${code ?? 'signal'})`);
    const timer = setTimeout(() => fail('no answer in time'), START_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/** Start the process; `ready` resolves when its socket listens (meanwhile the sandbox is created). */
export async function spawnBridgeDaemon(config: DaemonConfig): Promise<DaemonHandle> {
  // Not corral's environment: the process needs the engine, its folders and the desktop, and
  // passes on only what `bridge.env` names; API keys and tokens stay with the run.
  const env = bridgeDaemonEnv((await bridgeSettings()).env);
  const log = bridgeLogPath(config.session);
  mkdirSync(dirname(log), { recursive: true, mode: 0o700 });
  const fd = openSync(log, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [BIN, 'bridge', 'serve'], {
      detached: true,
      stdio: ['ignore', fd, fd, 'ipc'],
      env,
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new CorralError('BRIDGE_FAILED', 'Could not start the host bridge process.');
  const abort = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  const ready = reply(child, 'ready', log);
  child.send({ type: 'start', config } satisfies ToDaemon);
  // Settled by whoever waits for it; a failure also stops the process.
  ready.catch(abort);
  return {
    pid,
    log,
    ready,
    abort,
    watch: async (id) => {
      const watching = reply(child, 'watching', log);
      child.send({ type: 'watch', id } satisfies ToDaemon);
      await watching;
      child.disconnect();
      child.unref();
    },
  };
}
