/**
 * `corral session new|list|show|rm`: make a named group of agents on one folder (or one worktree
 * each), list and show them with their history, forget them. Everything about the input is checked
 * before anything is made; a failure after that removes the worktrees it made.
 */
import { randomBytes } from 'node:crypto';
import { AGENTS } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { CorralError } from '../../errors.js';
import { mainRepo, removeWorktree } from '../../git/worktree.js';
import type { ChatAgentRecord } from '../../tasks/chat-store.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import { resolveRunAgent } from '../start/launch.js';
import { agentWorktree } from '../start/work.js';
import type { ChatRefInput, NewChatInput } from '../types.js';
import {
  type ChatDetail,
  type ChatView,
  chatDetail,
  chatView,
  findChat,
  NAME,
  withChats,
} from './records.js';

const canContinue = (a: AgentSpec): boolean =>
  Boolean(a.session && (a.session.headlessResume || a.session.headlessResumeArgs));

/** Can corral ask this agent headless and then continue the same conversation? */
function checkChatAgent(agent: AgentSpec): void {
  if (!agent.endpoint?.promptArgs.length && !agent.headlessArgs?.length) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no headless mode corral can start, which a session needs.`,
      agent.notes.join(' ') || undefined,
    );
  }
  if (!canContinue(agent)) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} cannot continue a conversation headless by its id, which a session needs.`,
      `Agents that can: ${AGENTS.filter(canContinue)
        .map((a) => a.name)
        .join(', ')}.`,
    );
  }
}

export async function newChat(ctx: CoreContext, input: NewChatInput): Promise<ChatView> {
  const name = input.name.trim();
  if (!NAME.test(name)) {
    throw new CorralError(
      'BAD_INPUT',
      `"${input.name}" is not a session name.`,
      'Use up to 48 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    );
  }
  const workdir = (await resolveWorkspace(input.workdir ?? ctx.cwd)).path;
  const wanted = input.agents.map((a) => a.trim()).filter(Boolean);
  if (!wanted.length)
    throw new CorralError('BAD_INPUT', 'Which agents?', 'Name them: --agents claude,codex.');
  const specs: AgentSpec[] = [];
  for (const a of wanted) {
    const spec = await resolveRunAgent(ctx, a, workdir);
    checkChatAgent(spec);
    if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  }
  const repo = input.worktree ? await mainRepo(workdir, ctx.env) : undefined;
  await withChats(ctx, (s) => {
    if (s.byName(name))
      throw new CorralError(
        'BAD_INPUT',
        `A session "${name}" exists already.`,
        `\`corral session send ${name} "@all …"\` talks to it; \`corral session rm ${name}\` forgets it.`,
      );
  });
  const id = randomBytes(4).toString('hex');
  const made: (() => Promise<void>)[] = [];
  try {
    const agents: ChatAgentRecord[] = [];
    for (const [position, spec] of specs.entries()) {
      let workspace = repo ?? workdir;
      let worktree: { name: string; branch: string } | undefined;
      if (repo) {
        const wt = await agentWorktree(ctx, repo, spec.name, `session-${name.toLowerCase()}-${spec.name}`);
        made.push(() => removeWorktree(wt, ctx.env));
        workspace = wt.path;
        worktree = { name: wt.name, branch: wt.branch };
        ctx.note(`corral: ${spec.displayName} works in worktree ${wt.name} (branch ${wt.branch})`);
      }
      agents.push({
        chatId: id,
        agent: spec.name,
        position,
        workspace,
        worktree: worktree?.name ?? null,
        branch: worktree?.branch ?? null,
        conversation: null,
      });
    }
    const { name: _n, agents: _a, workdir: _w, worktree: _t, ...options } = input;
    return await withChats(ctx, (s) => {
      const record = {
        id,
        name,
        workspace: repo ?? workdir,
        worktree: Boolean(repo),
        options: JSON.stringify(options),
        created: new Date().toISOString(),
      };
      s.insert(record, agents);
      return chatView(s, record);
    });
  } catch (e) {
    for (const undo of made.reverse()) await undo().catch(() => {});
    throw e;
  }
}

export async function listChats(ctx: CoreContext): Promise<ChatView[]> {
  return withChats(ctx, (s) => s.list().map((c) => chatView(s, c)));
}

export async function showChat(ctx: CoreContext, input: ChatRefInput): Promise<ChatDetail> {
  return withChats(ctx, (s) => chatDetail(s, findChat(s, input.session)));
}

/** Forget a session and its history; its worktrees (and their work) stay for `corral worktree`. */
export async function removeChat(ctx: CoreContext, input: ChatRefInput): Promise<ChatView> {
  return withChats(ctx, (s) => {
    const detail = chatDetail(s, findChat(s, input.session));
    const busy = detail.messages.filter((m) => m.state === 'pending').map((m) => m.author);
    if (busy.length) {
      throw new CorralError(
        'BAD_INPUT',
        `Session ${detail.name} is waiting for ${busy.join(', ')}.`,
        'Remove it once they have answered.',
      );
    }
    s.remove(detail.id);
    const { messages: _m, ...view } = detail;
    return view;
  });
}

/** Each session's last message id and pending answers: how the daemon notices sends by the CLI. */
export async function chatHeads(
  ctx: CoreContext,
): Promise<{ chatId: string; last: number; pending: number }[]> {
  return withChats(ctx, (s) => s.heads());
}
