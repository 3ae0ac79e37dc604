/**
 * One detached run's bridge session, served by whichever long-lived process hosts it: its own
 * small process (`corral bridge serve`, daemon.ts) or the daemon, which serves every detached
 * run's session in-process (core/bridge-host.ts). Either way a session is the same thing: its own
 * socket, token digest, command store, approval queue folder and notifier, closed over here and
 * shared with no other session. It records itself in the session's state file, asks through the
 * approval queue, keeps the workspace's gateway up, and ends with the sandbox: when the container
 * exits it stops the session's commands and services, removes the socket, marks the state ended
 * and notifies.
 */
import { appendFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { BridgeSettings } from '../config/schema.js';
import type { ContainerEngine } from '../engine/index.js';
import type { ServiceController } from '../services/types.js';
import { ApprovalQueue } from './approval-queue.js';
import { queuedApprover } from './ask.js';
import type { DaemonConfig } from './daemon-spawn.js';
import { defaultNotifier, type Notifier } from './notify.js';
import { summarizeApproval } from './prompt.js';
import { privateSocket, relayBridge } from './relayed.js';
import { type Bridge, startBridge } from './server.js';
import { bridgeLogPath, pruneBridgeStates, updateBridgeState, writeBridgeState } from './session-state.js';

export interface SessionDeps {
  /** The engine the run's sandbox is on (connected while the run creates the sandbox). */
  engine: Promise<ContainerEngine>;
  /** The session's log (its own process: stderr, which is the log file; the daemon: the file). */
  log: (line: string) => void;
  /** Recorded in the state: the process serving the session. */
  pid: number;
  /** 'daemon' when the daemon serves it (so a restarted daemon serves it again). */
  host?: 'daemon';
  hostCommands?: BridgeSettings;
  hostEnv?: NodeJS.ProcessEnv;
  /** Served again by a restarted daemon: the state exists and the container already runs. */
  resumed?: { containerId: string };
}

export interface HostedSession {
  readonly session: string;
  /** The sandbox started: watch it (and its gateway) and end with it. */
  watch(containerId: string): Promise<void>;
  /** End the session now (a failed start, or the container gone). */
  end(why: string, exitCode?: number): Promise<void>;
  /** Resolves once the session has ended (not when it was only suspended). */
  readonly ended: Promise<void>;
  /** The host stops: close the socket but leave the session to be served again. */
  suspend(): Promise<void>;
}

/** A bell and a line on the starting terminal when it is still there, else in the log. */
function terminalLine(tty: string | undefined, log: (line: string) => void): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const toLog = () => {
        log(chunk.toString('utf8').trimEnd());
        cb();
      };
      if (!tty) return toLog();
      appendFile(tty, chunk).then(() => cb(), toLog);
    },
  });
}

/** Notifications are also remembered for `corral list`. */
function recordingNotifier(session: string, base: Notifier, log: (line: string) => void): Notifier {
  return async (title, body) => {
    await updateBridgeState(session, { lastNotification: { title, body, at: Date.now() } });
    // The title only: a body can quote a command, and commands can hold secrets.
    log(`notify: ${title}`);
    await base(title, body);
  };
}

const LOST = 'sandbox lost in an engine restart';

/**
 * Returns when the container has exited (or is gone); survives the engine blinking. `lost`: the
 * engine went away and came back without the sandbox (Docker stops its containers when it stops,
 * and before 24.0.8 removed `--rm` ones at a live-restore restart too: moby#46308).
 */
async function containerEnd(
  engine: ContainerEngine,
  id: string,
  log: (line: string) => void,
  stopped: () => boolean,
): Promise<{ code?: number; lost: boolean }> {
  let blinked = false;
  while (!stopped()) {
    try {
      // A detached run lives long: Podman need not look at it every 20 ms.
      return { code: await engine.wait(id, { pollMs: 1000 }), lost: false };
    } catch (e) {
      const details = await engine.inspect(id).catch(() => 'unknown' as const);
      if (details === undefined) return { lost: blinked };
      if (details !== 'unknown' && !details.running) return { code: details.exitCode, lost: false };
      blinked = true;
      log(`waiting on the container failed (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  return { lost: false };
}

/** Serve the session's bridge; resolves once its socket listens (throws, cleaned up, when it cannot). */
export async function hostBridgeSession(c: DaemonConfig, deps: SessionDeps): Promise<HostedSession> {
  const { log } = deps;
  let bridge: Bridge | undefined;
  const listenAt = c.relayed ? privateSocket(c.socketPath) : c.socketPath;
  let unrelay: (() => Promise<void>) | undefined;
  const notify = recordingNotifier(c.session, defaultNotifier(terminalLine(c.notifyTty, log)), log);
  let suspended = false;
  let stopGateway: (() => void) | undefined;
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((r) => {
    markEnded = r;
  });
  let ending: Promise<void> | undefined;
  const end = (why: string, exitCode?: number) =>
    (ending ??= (async () => {
      log(`ending: ${why}`);
      stopGateway?.();
      await unrelay?.().catch(() => {});
      await bridge?.close().catch(() => {});
      // Services the agent started in this session go with it.
      await stopServices(deps.engine, c.workspace, c.session).catch(() => {});
      // The pid stays: `corral clean` waits on it before it forgets the session.
      await updateBridgeState(c.session, { ended: Date.now() }).catch(() => {});
      if (exitCode !== undefined || why === 'container exited' || why === LOST)
        await notify(`${c.agent} finished`, `${c.workspace} (exit code ${exitCode ?? 'unknown'})`).catch(
          () => {},
        );
      markEnded();
    })());

  const watch = async (containerId: string) => {
    const engine = await deps.engine;
    if (deps.host) await updateBridgeState(c.session, { containerId }).catch(() => {});
    // The workspace's gateway, kept up while the sandbox runs (said in the log and as a notice).
    const { watchGateway } = await import('../gateway/watch.js');
    const { workspaceIdOf } = await import('../workspace/identity.js');
    const gateway = watchGateway(engine, workspaceIdOf(c.workspace), {
      note: (line) => {
        log(line);
        void notify(`${c.agent}: egress gateway`, line.replace(/^corral: /, '')).catch(() => {});
      },
      needed: async () => (await engine.inspect(containerId))?.running ?? false,
    });
    stopGateway = () => gateway.stop();
    void containerEnd(engine, containerId, log, () => suspended || ending !== undefined).then(
      ({ code, lost }) => {
        if (suspended) return;
        if (lost)
          log(
            'corral: the container engine came back without the sandbox: it stopped it when it went away (its workspace, gateway and login are kept; start a new run)',
          );
        void end(lost ? LOST : 'container exited', code);
      },
    );
  };

  try {
    if (!deps.resumed) {
      await pruneBridgeStates().catch(() => {});
      await writeBridgeState({
        session: c.session,
        workspace: c.workspace,
        agent: c.agent,
        container: c.container,
        pid: deps.pid,
        socket: c.socketPath,
        log: bridgeLogPath(c.session),
        ...(deps.host
          ? {
              host: deps.host,
              tokenSha256: c.tokenSha256,
              engine: c.engine,
              ...(c.reconnect ? { reconnect: c.reconnect } : {}),
              ...(c.relayed ? { relayed: true } : {}),
              approvalTimeoutMs: c.approvalTimeoutMs,
              ...(c.notifyTty ? { notifyTty: c.notifyTty } : {}),
            }
          : {}),
      });
    } else await updateBridgeState(c.session, { pid: deps.pid });
    const queue = new ApprovalQueue();
    bridge = await startBridge({
      services: lazyServices(deps.engine, c.workspace, c.session),
      workspace: c.workspace,
      session: c.session,
      tokenSha256: c.tokenSha256,
      socketPath: listenAt,
      approvalTimeoutMs: c.approvalTimeoutMs,
      ...(deps.hostCommands ? { hostCommands: deps.hostCommands } : {}),
      ...(deps.hostEnv ? { hostEnv: deps.hostEnv } : {}),
      notify,
      approve: queuedApprover({
        queue,
        timeoutMs: c.approvalTimeoutMs,
        onPending: (p) =>
          void notify(
            `${c.agent} asks for approval`,
            `${summarizeApproval(p)} — corral approvals allow ${p.id} (or always, deny)`,
          ).catch(() => {}),
      }),
    });
    // Held for the session's life (a gateway pod run again gets it too), undone when it ends.
    if (c.relayed) unrelay = await relayBridge(await deps.engine, c.socketPath, listenAt);
    log(
      `bridge for session ${c.session} on ${c.socketPath}${c.relayed ? ` (relayed from ${listenAt})` : ''}`,
    );
  } catch (e) {
    // A session served again whose socket cannot be had yet stays as it is (its sandbox runs).
    if (!deps.resumed) await end('failed to start');
    throw e;
  }
  if (deps.resumed) await watch(deps.resumed.containerId);
  return {
    session: c.session,
    watch,
    end,
    ended,
    suspend: async () => {
      if (ending) return;
      suspended = true;
      stopGateway?.();
      log('suspended: the host stops; the next daemon serves this session again');
      await unrelay?.().catch(() => {});
      await bridge?.close().catch(() => {});
    },
  };
}

/** The session's services, reached through the engine once it is connected. */
function lazyServices(
  engine: Promise<ContainerEngine>,
  workspace: string,
  session: string,
): ServiceController {
  const controller = async () => {
    const [{ serviceController }, { resolveWorkspace }] = await Promise.all([
      import('../services/index.js'),
      import('../workspace/identity.js'),
    ]);
    return serviceController(await engine, await resolveWorkspace(workspace), session);
  };
  return {
    start: async (req) => (await controller()).start(req),
    stop: async (name) => (await controller()).stop(name),
    list: async () => (await controller()).list(),
    logs: async (name, lines) => (await controller()).logs(name, lines),
  };
}

async function stopServices(engine: Promise<ContainerEngine>, workspace: string, session: string) {
  const [{ stopSessionServices }, { resolveWorkspace }] = await Promise.all([
    import('../services/index.js'),
    import('../workspace/identity.js'),
  ]);
  await stopSessionServices(await engine, await resolveWorkspace(workspace), session);
}
