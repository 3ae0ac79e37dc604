/** The workspace's service containers (postgres, redis, …): list, logs, stop. */
import { Transform } from 'node:stream';
import { CorralError } from '../errors.js';
import type { Stdio } from '../sandbox/attach.js';
import type { ServiceInfo } from '../services/index.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { ServiceInput, ServiceLogsInput, WorkdirInput } from './types.js';

export type { ServiceInfo };

const services = () => import('../services/index.js');

async function target(ctx: CoreContext, input: WorkdirInput) {
  const ws = await resolveWorkspace(input.workdir ?? ctx.cwd);
  return { ws, engine: await ctx.engine(), svc: await services() };
}

/** The services; `reaped` names those an ended session left behind, removed first. */
export async function listServices(
  ctx: CoreContext,
  input: WorkdirInput & { reap?: boolean },
): Promise<{ services: ServiceInfo[]; reaped: string[] }> {
  const { ws, engine, svc } = await target(ctx, input);
  const reaped = input.reap === false ? [] : await svc.reapOrphans(engine, ws);
  return { services: await svc.listServices(engine, ws), reaped };
}

/** Every workspace's services by workspace id, without reaping (a watcher's cheap look). */
export async function servicesByWorkspace(ctx: CoreContext): Promise<Map<string, ServiceInfo[]>> {
  return (await services()).listAllServices(await ctx.engine());
}

async function found(ctx: CoreContext, input: ServiceInput) {
  const t = await target(ctx, input);
  const s = await t.svc.findService(t.engine, t.ws, input.name);
  if (!s)
    throw new CorralError(
      'BAD_INPUT',
      `No service named ${input.name} in this workspace.`,
      'See `corral services`.',
    );
  return { ...t, s };
}

/** The last `tail` lines (default 100) of a service's output, control characters removed. */
export async function serviceLogText(ctx: CoreContext, input: ServiceLogsInput): Promise<string> {
  const { svc, engine, s } = await found(ctx, input);
  return svc.tailLogs(engine, s.container, input.tail ?? 100);
}

/** Follow a service's output into `stdio` until it ends or `signal` aborts. */
export async function followServiceLogs(
  ctx: CoreContext,
  input: ServiceLogsInput,
  stdio: Pick<Stdio, 'stdout' | 'stderr'>,
  signal?: AbortSignal,
): Promise<void> {
  const { svc, engine, s } = await found(ctx, input);
  const clean = () =>
    new Transform({ transform: (c: Buffer, _e, done) => done(null, svc.sanitizeLog(c.toString('utf8'))) });
  const out = clean();
  const err = clean();
  out.pipe(stdio.stdout as NodeJS.WritableStream);
  err.pipe(stdio.stderr as NodeJS.WritableStream);
  const stream = await engine.logs(s.container, { follow: true, tail: input.tail ?? 100 });
  engine.demux(stream, out, err);
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    signal?.addEventListener(
      'abort',
      () => {
        stream.destroy();
        resolve();
      },
      { once: true },
    );
  });
}

/** Stop a service and delete its container and data. */
export async function stopService(ctx: CoreContext, input: ServiceInput): Promise<void> {
  const { ws, engine, svc } = await target(ctx, input);
  await svc.stopService(engine, ws, input.name);
}
