/** `corral worktree list|diff|merge|rm` and `corral resume`. */
import { resolveAgent } from '../../agents/index.js';
import { CorralError } from '../../errors.js';
import {
  worktreeDiff as diff,
  findWorktree,
  listWorktrees,
  mainRepo,
  mergeWorktree as merge,
  removeWorktree as remove,
  type Worktree,
} from '../../git/worktree.js';
import type { AgentSession } from '../../tasks/store.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import type { Stdio } from '../events.js';
import { startSandbox } from '../start/launch.js';
import type { ResumeInput, StartSandboxResult, WorkdirInput, WorktreeInput } from '../types.js';
import { withStore } from './records.js';

export type { AgentSession, Worktree };

export interface WorktreeView extends Worktree {
  /** `git diff --stat` of its work since it branched off. */
  diffStat: string;
}

export async function worktrees(ctx: CoreContext, input: WorkdirInput = {}): Promise<WorktreeView[]> {
  const repo = await mainRepo(input.workdir ?? ctx.cwd, ctx.env);
  const list = await listWorktrees(repo, ctx.env);
  return Promise.all(
    list.map(async (w) => ({
      ...w,
      diffStat: (await diff(w, { stat: true, env: ctx.env }).catch(() => '')).trim(),
    })),
  );
}

async function named(ctx: CoreContext, input: WorktreeInput): Promise<Worktree> {
  return findWorktree(await mainRepo(input.workdir ?? ctx.cwd, ctx.env), input.name, ctx.env);
}

export async function worktreeDiff(
  ctx: CoreContext,
  input: WorktreeInput & { stat?: boolean },
): Promise<string> {
  return diff(await named(ctx, input), { stat: input.stat ?? false, env: ctx.env });
}

export async function mergeWorktree(
  ctx: CoreContext,
  input: WorktreeInput,
): Promise<{ merged: string; into: string }> {
  const wt = await named(ctx, input);
  return { ...(await merge(wt, ctx.env)), into: wt.repo };
}

export async function removeWorktree(ctx: CoreContext, input: WorktreeInput): Promise<Worktree> {
  const wt = await named(ctx, input);
  await remove(wt, ctx.env);
  return wt;
}

/** The agent's recorded conversations, newest first. */
export async function agentSessions(ctx: CoreContext, agent: string): Promise<AgentSession[]> {
  return withStore(ctx, (s) => s.sessions(resolveAgent(agent).name));
}

/**
 * Reopen a conversation: by id prefix, or the agent's latest in this workspace (any workspace when
 * it has none here). It runs where it ran before, in the same profile: the conversation lives in
 * that workspace's home volume.
 */
export async function resumeAgent(
  ctx: CoreContext,
  input: ResumeInput,
  stdio?: Stdio,
): Promise<StartSandboxResult> {
  const agent = resolveAgent(input.agent);
  if (!agent.session) {
    throw new CorralError(
      'BAD_INPUT',
      `corral does not know how to reopen ${agent.displayName} conversations.`,
    );
  }
  const all = await agentSessions(ctx, agent.name);
  let session: AgentSession | undefined;
  if (input.id) {
    const hits = all.filter((s) => s.sessionId.startsWith(input.id!.trim()));
    if (hits.length > 1)
      throw new CorralError('BAD_INPUT', `Session id "${input.id}" is ambiguous.`, 'Give more of the id.');
    session = hits[0];
  } else {
    const here = await resolveWorkspace(input.workdir ?? ctx.cwd)
      .then((w) => w.path)
      .catch(() => undefined);
    session = all.find((s) => s.workspace === here) ?? all[0];
  }
  if (!session) {
    throw new CorralError(
      'NOT_FOUND',
      input.id
        ? `No ${agent.displayName} session "${input.id}".`
        : `No ${agent.displayName} session recorded yet.`,
      `See \`corral resume ${agent.name} --list\`.`,
    );
  }
  const { id: _i, agent: _a, workdir: _w, ...options } = input;
  return startSandbox(
    ctx,
    {
      ...options,
      agent: agent.name,
      mode: 'agent',
      workdir: session.workspace,
      profile: input.profile ?? session.profile,
      resumeSession: session.sessionId,
    },
    stdio,
  );
}
