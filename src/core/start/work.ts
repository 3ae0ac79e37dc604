/** Where a start's work lives: an agent's git worktree, and the conversation `corral resume` finds. */
import { join } from 'node:path';
import {
  ensureWorktree,
  mainRepo,
  newWorktreeName,
  type Worktree,
  type WorktreeMounts,
} from '../../git/worktree.js';
import { type AgentSession, dataDir, TaskStore } from '../../tasks/store.js';
import { workspaceIdOf } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';

/** Worktrees live under corral's data folder, per repository: never inside the repository itself. */
export const worktreeRoot = (env: NodeJS.ProcessEnv): string => join(dataDir(env), 'worktrees');

export async function agentWorktree(
  ctx: CoreContext,
  workdir: string,
  agent: string,
  name?: string,
): Promise<Worktree & WorktreeMounts> {
  const repo = await mainRepo(workdir, ctx.env);
  return ensureWorktree(
    repo,
    worktreeRoot(ctx.env),
    workspaceIdOf(repo),
    agent,
    name ?? newWorktreeName(),
    ctx.env,
  );
}

export async function recordAgentSession(
  ctx: CoreContext,
  s: Omit<AgentSession, 'created'> & { created?: string },
): Promise<void> {
  try {
    const store = TaskStore.open(ctx.env);
    try {
      store.recordSession({ created: new Date().toISOString(), ...s });
    } finally {
      store.close();
    }
  } catch (e) {
    // Losing the record loses only `corral resume`'s shortcut, never the run's result.
    ctx.note(`corral: could not record the ${s.agent} session: ${(e as Error).message}`);
  }
}
