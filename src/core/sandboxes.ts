/** list, stop, attach, exec, logs: operating on sandboxes that exist. */
import { findAgent } from '../agents/index.js';
import { CorralError } from '../errors.js';
import type { Stdio } from '../sandbox/attach.js';
import {
  attachTo,
  execIn,
  findSandbox,
  listSandboxes as listAll,
  type SandboxInfo,
  stopSandbox,
  streamLogs,
} from '../sandbox/manage.js';
import { resolveWorkspace, type Workspace } from '../workspace/identity.js';
import { hostUser, planUser } from '../workspace/userns.js';
import type { CoreContext } from './context.js';
import type { ExecInput, ListSandboxesInput, LogsInput, StopSandboxesInput, TargetInput } from './types.js';

export type { SandboxInfo };

export interface SandboxListing extends SandboxInfo {
  /** The last notification a detached run's bridge remembers (notify_user, approvals, exit). */
  lastNotification: { at: number; title: string; body: string } | null;
  /**
   * A running detached run's host bridge: served by the daemon, by a process of its own, or down
   * (the daemon that served it stopped or died; the next daemon serves it again). Null: no bridge.
   */
  bridge: 'daemon' | 'process' | 'down' | null;
}

/** Resolve `<agent|container>` against the (given or current) workspace. */
export async function resolveTarget(ctx: CoreContext, input: TargetInput): Promise<SandboxInfo> {
  const engine = await ctx.engine();
  const agent = findAgent(input.target);
  const ws: Workspace | undefined = await resolveWorkspace(input.workdir ?? ctx.cwd).catch(() => undefined);
  return findSandbox(engine, input.target, ws, agent?.name);
}

/** Sandboxes of all workspaces, with their last notification and how their bridge is served. */
export async function listSandboxes(
  ctx: CoreContext,
  input: ListSandboxesInput = {},
): Promise<SandboxListing[]> {
  const all = await listAll(await ctx.engine(), { ports: true, ...(input.running ? { running: true } : {}) });
  const { bridgeAlive, readBridgeState } = await import('../bridge/session-state.js');
  const states = await Promise.all(
    all.map(async (s) => (s.session ? readBridgeState(s.session) : undefined)),
  );
  return all.map((s, i) => {
    const st = states[i];
    const bridge = !st || !s.running || st.ended ? null : bridgeAlive(st) ? (st.host ?? 'process') : 'down';
    return { ...s, lastNotification: st?.lastNotification ?? null, bridge };
  });
}

/** Stop sandboxes; `onStopped` hears each as it goes (a long --all shows progress). */
export async function stopSandboxes(
  ctx: CoreContext,
  input: StopSandboxesInput,
  onStopped: (s: SandboxInfo) => void = () => {},
): Promise<SandboxInfo[]> {
  const targets = input.targets ?? [];
  if (!input.all && targets.length === 0) {
    throw new CorralError('BAD_INPUT', 'Nothing to stop.', 'Name an agent or container, or pass --all.');
  }
  const engine = await ctx.engine();
  const list = input.all
    ? await listAll(engine)
    : await Promise.all(targets.map((t) => resolveTarget(ctx, { target: t, workdir: input.workdir })));
  const reclaim = planUser(engine, hostUser()).reclaimTo;
  for (const s of list) {
    await stopSandbox(engine, s, {
      ...(input.force ? { force: true } : {}),
      ...(reclaim ? { reclaimTo: reclaim } : {}),
    });
    onStopped(s);
  }
  // Their detached runs' bridges end with them: returned once they have (socket gone, ending written).
  const { waitSessionsEnded } = await import('../bridge/session-state.js');
  await waitSessionsEnded(list.map((s) => s.name));
  // A stopped workspace keeps no warm sandboxes (the daemon's pool makes them again on its next run).
  const { dropWarm } = await import('./warm-pool.js');
  for (const ws of new Set(list.map((s) => s.workspace))) await dropWarm(ctx, engine, ws);
  return list;
}

/** Connect `stdio` to a running sandbox; exitCode undefined: the viewer detached, it still runs. */
export async function attachSandbox(
  ctx: CoreContext,
  input: TargetInput,
  stdio: Stdio,
): Promise<{ name: string; exitCode: number | undefined }> {
  const s = await resolveTarget(ctx, input);
  return { name: s.name, exitCode: await attachTo(await ctx.engine(), s, stdio) };
}

export async function execInSandbox(ctx: CoreContext, input: ExecInput, stdio: Stdio): Promise<number> {
  const s = await resolveTarget(ctx, input);
  return execIn(await ctx.engine(), s, input.command, stdio, {
    tty: input.tty ?? Boolean(stdio.stdin.isTTY),
  });
}

export async function sandboxLogs(ctx: CoreContext, input: LogsInput, stdio: Stdio): Promise<void> {
  const s = await resolveTarget(ctx, input);
  await streamLogs(await ctx.engine(), s, stdio, {
    ...(input.follow ? { follow: true } : {}),
    ...(input.tail !== undefined ? { tail: input.tail } : {}),
  });
}
