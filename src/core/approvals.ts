/**
 * What agents wait for (host commands, services): list and answer, from any caller. The answer
 * file is the one source of truth, so the terminal prompt of an attached run, `corral approvals`
 * and the daemon answer the same queue (first answer wins).
 */
import type { PendingApproval } from '../bridge/approval-queue.js';
import { CorralError } from '../errors.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { AnswerApprovalsInput, ApprovalAnswerWord, ListApprovalsInput } from './types.js';

export type Approval = Omit<PendingApproval, 'pid'> & { summary: string };

const queue = async () => new (await import('../bridge/approval-queue.js')).ApprovalQueue();
const prompt = () => import('../bridge/prompt.js');

/** Pending approvals (all workspaces unless `workdir`), with a one-line summary each. */
export async function listApprovals(_ctx: CoreContext, input: ListApprovalsInput = {}): Promise<Approval[]> {
  const ws = input.workdir ? await resolveWorkspace(input.workdir) : undefined;
  const pending = await (await queue()).list(ws ? { workspace: ws.path } : {});
  const { summarizeApproval } = await prompt();
  return pending.map(({ pid: _pid, ...p }) => ({ ...p, summary: summarizeApproval(p) }));
}

/** How an answer reads to a person ("allowed once", …). */
export async function answerWord(answer: ApprovalAnswerWord): Promise<string> {
  return (await prompt()).ANSWER_WORDS[answer];
}

/** Answer one approval; false when it is no longer waiting. */
export async function answerApproval(
  _ctx: CoreContext,
  id: string,
  answer: ApprovalAnswerWord,
): Promise<boolean> {
  return (await queue()).answer(id, answer);
}

/**
 * Answer approvals by id, or all of a workspace's (`all`, workdir default: cwd). Throws when one
 * was not waiting (after answering the others); `onAnswered` hears each as it goes.
 */
export async function answerApprovals(
  ctx: CoreContext,
  input: AnswerApprovalsInput,
  onAnswered: (id: string, word: string) => void = () => {},
): Promise<{ answered: string[] }> {
  const ids = input.ids ?? [];
  if (!input.all && !ids.length) {
    throw new CorralError('BAD_INPUT', 'Which approval?', 'Name ids from `corral approvals`, or pass --all.');
  }
  if (input.all && ids.length) throw new CorralError('BAD_INPUT', 'Give approval ids or --all, not both.');
  const q = await queue();
  const targets = input.all
    ? (await q.list({ workspace: (await resolveWorkspace(input.workdir ?? ctx.cwd)).path })).map((p) => p.id)
    : ids;
  const answered: string[] = [];
  const missed: string[] = [];
  for (const id of targets) {
    if (await q.answer(id, input.answer)) {
      answered.push(id);
      onAnswered(id, await answerWord(input.answer));
    } else missed.push(id);
  }
  if (missed.length) {
    throw new CorralError(
      'BAD_INPUT',
      `Not waiting for an answer: ${missed.join(', ')}.`,
      'It was answered already, timed out, or its run ended; see `corral approvals`.',
    );
  }
  return { answered };
}
