/**
 * The host commands agents ran through the bridge in a workspace (`corral commands`): list them,
 * read their output, kill one that is still running. Output files live in the workspace (the agent
 * can write there), so they are read without following links; text for people has its control
 * characters removed (cleanOutput).
 */
import type { CommandInfo } from '../bridge/commands.js';
import { CorralError } from '../errors.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { WorkdirInput } from './types.js';

type State = CommandInfo['state'] | 'lost';
export interface CommandRow extends Omit<CommandInfo, 'state'> {
  state: State;
  pid?: number;
}

/** The workspace a `workdir` names, as the bridge keys its commands. */
async function workspaceOf(ctx: CoreContext, input: WorkdirInput): Promise<string> {
  return (await resolveWorkspace(input.workdir ?? ctx.cwd)).path;
}

/** Every session's commands in a workspace: the folders on disk, with liveness from the registry. */
export async function hostCommands(ctx: CoreContext, input: WorkdirInput): Promise<CommandRow[]> {
  const workspace = await workspaceOf(ctx, input);
  const { listOnDisk } = await import('../bridge/history.js');
  const { listRunning } = await import('../bridge/registry.js');
  const running = new Map((await listRunning(workspace)).map((r) => [`${r.session}/${r.id}`, r]));
  return (await listOnDisk(workspace, '')).map((c) => {
    const live = running.get(`${c.session}/${c.id}`);
    // No exit file and no live process: the bridge that ran it went away without recording an end.
    const state: State = c.state === 'running' && !live ? 'lost' : c.state;
    return { ...c, state, ...(live ? { pid: live.pid, startedAt: live.startedAt } : {}) };
  });
}

/** The command `ref` (ID, or SESSION/ID) names among `rows`. */
export function pickHostCommand(rows: CommandRow[], ref: string): CommandRow {
  const found = rows.filter((r) => r.id === ref || `${r.session}/${r.id}` === ref);
  if (found.length === 1) return found[0]!;
  throw new CorralError(
    'BAD_INPUT',
    found.length ? `Command id ${ref} is in several sessions.` : `No command ${ref} in this workspace.`,
    found.length ? 'Name it as SESSION/ID (see `corral commands list`).' : 'See `corral commands list`.',
  );
}

/** Find one command of the workspace by ID or SESSION/ID. */
export async function findHostCommand(
  ctx: CoreContext,
  input: WorkdirInput & { ref: string },
): Promise<CommandRow> {
  return pickHostCommand(await hostCommands(ctx, input), input.ref);
}

/** Text from a command's output file, for people: control characters removed. */
export const cleanOutput = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');

/** Up to 1 MiB of a command's stdout or stderr, from byte `from` (raw bytes; see cleanOutput). */
export async function hostCommandOutput(
  ctx: CoreContext,
  input: WorkdirInput & { row: CommandRow; stream: 'stdout' | 'stderr'; from?: number },
): Promise<Buffer> {
  const workspace = await workspaceOf(ctx, input);
  const { openSafeDir, readBytesNoFollow } = await import('../bridge/safe-fs.js');
  const dir = await openSafeDir(workspace, input.row.dir.split('/'), 'open');
  try {
    return (await readBytesNoFollow(dir, input.stream, 1 << 20, input.from ?? 0)) ?? Buffer.alloc(0);
  } finally {
    await dir.close();
  }
}

/** Stop a running command (SIGTERM to its process group, SIGKILL after 5 s); false: it was not running. */
export async function killHostCommand(
  ctx: CoreContext,
  input: WorkdirInput & { row: CommandRow },
): Promise<boolean> {
  const workspace = await workspaceOf(ctx, input);
  const { killRunning, listRunning } = await import('../bridge/registry.js');
  const { row } = input;
  const record = (await listRunning(workspace)).find((r) => r.session === row.session && r.id === row.id);
  return Boolean(record && (await killRunning(record)));
}
