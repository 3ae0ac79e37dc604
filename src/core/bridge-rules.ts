/**
 * Host commands agents in a workspace may run through the bridge without asking (`corral allowed`):
 * exact commands and prefix patterns ending in `*`, each bound to the files that define it.
 */
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { AllowedPatternInput, WorkdirInput } from './types.js';

// The bridge pulls in the MCP SDK: load it when a use-case runs, not on every corral start.
const approvals = () => import('../bridge/approvals.js');

const workspaceOf = async (ctx: CoreContext, input: WorkdirInput) =>
  (await resolveWorkspace(input.workdir ?? ctx.cwd)).path;

/** The allowed commands and patterns. */
export async function listAllowedCommands(ctx: CoreContext, input: WorkdirInput): Promise<string[]> {
  return (await approvals()).listAllowed(await workspaceOf(ctx, input));
}

export interface AllowedAdded {
  /** false: it was allowed already. */
  added: boolean;
  /** The files that define the command as they are now, and their hash (none for a service). */
  bound?: { files: string[]; hash: string } | undefined;
}

/** Allow a command or pattern, bound to the files that define it as they are now. */
export async function addAllowedCommand(ctx: CoreContext, input: AllowedPatternInput): Promise<AllowedAdded> {
  const ws = await workspaceOf(ctx, input);
  const { addAllowed, bindingCommand } = await approvals();
  const { currentBinding, shortHash } = await import('../bridge/bindings.js');
  const bound = input.pattern.startsWith('service:')
    ? undefined
    : await currentBinding(ws, bindingCommand(input.pattern));
  const added = await addAllowed(ws, input.pattern, undefined, bound ?? null);
  return { added, ...(bound ? { bound: { files: bound.files, hash: shortHash(bound.hash) } } : {}) };
}

/** Stop allowing a command or pattern; false when it was not allowed. */
export async function removeAllowedCommand(ctx: CoreContext, input: AllowedPatternInput): Promise<boolean> {
  return (await approvals()).removeAllowed(await workspaceOf(ctx, input), input.pattern);
}
