/**
 * The detached run's bridge process (`corral bridge serve`, started by daemon-spawn.ts): it owns
 * the session's bridge socket and token, asks through the approval queue and says so with a
 * notification, and ends with the sandbox: when the container exits (`corral stop`, the agent is
 * done, a crash) it stops the session's commands, removes the socket, notifies, and exits.
 *
 * Why "notify when the container exits" rather than a Claude `Stop` hook: it needs nothing inside
 * the sandbox (no hook config, no token handed to a shell script), works for every agent, and
 * fires even when the agent crashes or is killed; the agent cannot switch it off.
 */
import { appendFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { type ContainerEngine, connectEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { ServiceController } from '../services/types.js';
import { ApprovalQueue } from './approval-queue.js';
import { queuedApprover } from './ask.js';
import type { DaemonConfig, FromDaemon, ToDaemon } from './daemon-spawn.js';
import { defaultNotifier, type Notifier } from './notify.js';
import { summarizeApproval } from './prompt.js';
import { type Bridge, startBridge } from './server.js';
import { bridgeLogPath, pruneBridgeStates, updateBridgeState, writeBridgeState } from './session-state.js';

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
const send = (m: FromDaemon) => process.send?.(m);

function nextMessage<T extends ToDaemon['type']>(
  type: T,
): Promise<Extract<ToDaemon, { type: T }> | undefined> {
  return new Promise((resolve) => {
    const onMessage = (m: ToDaemon) => {
      if (m?.type !== type) return;
      done();
      resolve(m as Extract<ToDaemon, { type: T }>);
    };
    const onGone = () => {
      done();
      resolve(undefined);
    };
    const done = () => {
      process.off('message', onMessage);
      process.off('disconnect', onGone);
    };
    process.on('message', onMessage);
    process.once('disconnect', onGone);
  });
}

/** A bell and a line on the starting terminal when it is still there, else in the log. */
function terminalLine(tty: string | undefined): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const toLog = () => process.stderr.write(chunk, () => cb());
      if (!tty) return toLog();
      appendFile(tty, chunk).then(() => cb(), toLog);
    },
  });
}

/** Notifications are also remembered for `corral list`. */
function recordingNotifier(session: string, base: Notifier): Notifier {
  return async (title, body) => {
    await updateBridgeState(session, { lastNotification: { title, body, at: Date.now() } });
    // The title only: a body can quote a command, and commands can hold secrets.
    log(`notify: ${title}`);
    await base(title, body);
  };
}

/** Returns when the container has exited (or is gone); survives the engine blinking. */
async function containerEnd(engine: ContainerEngine, id: string): Promise<number | undefined> {
  for (;;) {
    try {
      // A detached run lives long: Podman need not look at it every 20 ms.
      return await engine.wait(id, { pollMs: 1000 });
    } catch (e) {
      const details = await engine.inspect(id).catch(() => 'unknown' as const);
      if (details === undefined) return undefined;
      if (details !== 'unknown' && !details.running) return details.exitCode;
      log(`waiting on the container failed (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export async function serveDetachedBridge(): Promise<number> {
  if (!process.send) {
    throw new CorralError(
      'BAD_INPUT',
      '`corral bridge serve` is started by `corral run -d`, not by hand.',
      'Start a detached run with `corral run <agent> -d`.',
    );
  }
  const start = await nextMessage('start');
  if (!start) return 1;
  const c: DaemonConfig = start.config;
  let bridge: Bridge | undefined;
  const notify = recordingNotifier(c.session, defaultNotifier(terminalLine(c.notifyTty)));
  let ending: Promise<void> | undefined;
  const end = (why: string, exitCode?: number) =>
    (ending ??= (async () => {
      log(`ending: ${why}`);
      await bridge?.close().catch(() => {});
      // Services the agent started in this session go with it.
      await stopServices(connecting, c.workspace, c.session).catch(() => {});
      // The pid stays: `corral clean` waits on it before it forgets the session.
      await updateBridgeState(c.session, { ended: Date.now() }).catch(() => {});
      if (exitCode !== undefined || why === 'container exited')
        await notify(`${c.agent} finished`, `${c.workspace} (exit code ${exitCode ?? 'unknown'})`).catch(
          () => {},
        );
    })());
  for (const s of ['SIGTERM', 'SIGINT'] as const)
    process.once(s, () => void end(s).then(() => process.exit(0)));
  process.on('SIGHUP', () => {});
  // Connected while the run creates the sandbox, not after.
  const connecting = connectEngine(c.engine);
  connecting.catch(() => {});
  try {
    await pruneBridgeStates().catch(() => {});
    await writeBridgeState({
      session: c.session,
      workspace: c.workspace,
      agent: c.agent,
      container: c.container,
      pid: process.pid,
      socket: c.socketPath,
      log: bridgeLogPath(c.session),
    });
    const queue = new ApprovalQueue();
    bridge = await startBridge({
      services: lazyServices(connecting, c.workspace, c.session),
      workspace: c.workspace,
      session: c.session,
      token: c.token,
      socketPath: c.socketPath,
      approvalTimeoutMs: c.approvalTimeoutMs,
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
    log(`bridge for session ${c.session} on ${c.socketPath}`);
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    await end('failed to start');
    return 1;
  }
  send({ type: 'ready' });
  const watch = await nextMessage('watch');
  if (!watch) {
    await end('the run gave up before the sandbox started');
    return 0;
  }
  let engine: ContainerEngine;
  try {
    engine = await connecting;
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    await end('no engine');
    return 1;
  }
  send({ type: 'watching' });
  // The workspace's gateway, kept up while the sandbox runs (said in the log and as a notice).
  const { watchGateway } = await import('../gateway/watch.js');
  const { workspaceIdOf } = await import('../workspace/identity.js');
  const gateway = watchGateway(engine, workspaceIdOf(c.workspace), {
    note: (line) => {
      log(line);
      void notify(`${c.agent}: egress gateway`, line.replace(/^corral: /, '')).catch(() => {});
    },
    needed: async () => (await engine.inspect(watch.id))?.running ?? false,
  });
  const code = await containerEnd(engine, watch.id);
  gateway.stop();
  await end('container exited', code);
  return 0;
}

/** The session's services, reached through the engine the process connects to once it is up. */
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
