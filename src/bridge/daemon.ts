/**
 * The detached run's bridge process (`corral bridge serve`, started by daemon-spawn.ts): it owns
 * the session's bridge socket and token digest (session-host.ts), asks through the approval queue and says so with a
 * notification, and ends with the sandbox: when the container exits (`corral stop`, the agent is
 * done, a crash) it stops the session's commands, removes the socket, notifies, and exits.
 *
 * Why "notify when the container exits" rather than a Claude `Stop` hook: it needs nothing inside
 * the sandbox (no hook config, no token handed to a shell script), works for every agent, and
 * fires even when the agent crashes or is killed; the agent cannot switch it off.
 */
import { reconnectEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { FromDaemon, ToDaemon } from './daemon-spawn.js';
import { type HostedSession, hostBridgeSession } from './session-host.js';

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
  const c = start.config;
  // Connected while the run creates the sandbox, not after.
  const engine = reconnectEngine(c.engine, c.reconnect);
  engine.catch(() => {});
  let session: HostedSession | undefined;
  for (const s of ['SIGTERM', 'SIGINT'] as const)
    process.once(s, () => void (session?.end(s) ?? Promise.resolve()).then(() => process.exit(0)));
  process.on('SIGHUP', () => {});
  try {
    session = await hostBridgeSession(c, { engine, log, pid: process.pid });
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    return 1;
  }
  send({ type: 'ready' });
  const watch = await nextMessage('watch');
  if (!watch) {
    await session.end('the run gave up before the sandbox started');
    return 0;
  }
  try {
    await engine;
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    await session.end('no engine');
    return 1;
  }
  await session.watch(watch.id);
  send({ type: 'watching' });
  await session.ended;
  return 0;
}
