/**
 * The API server's streams: a container's log (HTTP) and exec (WebSocket, stdout and stderr on
 * separate channels, the exit status on its own), wired into the engine's sessions.
 */
import type { Readable, Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import type { ExecOptions } from '../types.js';
import type { Clients } from './client.js';
import { CONTAINER } from './names.js';
import { framer, raw, type Session } from './streams.js';

export async function pipeLog(
  c: Clients,
  ns: string,
  id: string,
  session: Session,
  tty: boolean,
  opts: { follow?: boolean; tail?: number },
): Promise<void> {
  // The client pipes the response body into this writable (ending it with the body) and never
  // calls its `done` callback, so the end of the log is the writable finishing.
  const into = tty ? raw(session) : framer(session, 1);
  const ended = new Promise<void>((resolve, reject) => {
    into.once('finish', resolve);
    into.once('error', reject);
  });
  const abort = await new c.lib.Log(c.kc).log(ns, id, CONTAINER, into, {
    follow: opts.follow ?? false,
    ...(opts.tail !== undefined ? { tailLines: opts.tail } : {}),
  });
  session.onClose(() => abort.abort());
  await ended;
}

export async function startExec(
  c: Clients,
  ns: string,
  id: string,
  cmd: string[],
  opts: ExecOptions,
  io: { stdout: Writable; stderr: Writable | null; stdin: Readable | null; tty: boolean },
  /** Another container of the pod than the sandbox's own (an init step, the link). */
  container = CONTAINER,
) {
  let status: V1Status | undefined;
  const ws = await new c.lib.Exec(c.kc).exec(
    ns,
    id,
    container,
    withEnv(cmd, opts),
    io.stdout,
    io.stderr,
    io.stdin,
    io.tty,
    (s) => {
      status = s;
    },
  );
  const exitCode = new Promise<number>((resolve) => ws.once('close', () => resolve(exitOf(status))));
  return { ws, exitCode };
}

/** Kubernetes exec has no user, env or workdir options: `env` in the container does the last two. */
export function withEnv(cmd: string[], opts: ExecOptions): string[] {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  if (!env.length && !opts.workdir) return cmd;
  return ['env', ...(opts.workdir ? ['-C', opts.workdir] : []), ...env, ...cmd];
}

export function exitOf(status: V1Status | undefined): number {
  if (!status) return -1;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message ? Number(cause.message) : 1;
}

export function canaryOf(server: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(server);
    return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
  } catch {
    return undefined;
  }
}
