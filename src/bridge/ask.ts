/**
 * The bridge's `approve` callback, for every way of running: the request goes into the approval
 * queue (so `corral approvals` can answer it from anywhere) and, where there is a terminal to ask
 * in, is shown there too. `onPending` tells someone it waits (a line, a notification).
 */

import type { ApprovalQueue, AskRequest, PendingApproval } from './approval-queue.js';
import type { ApprovalAnswer } from './approvals.js';

/** Whoever shows a pending approval to a person: the terminal, or an editor over ACP. */
export interface ApprovalPrompter {
  ask(
    p: PendingApproval,
    signal: AbortSignal,
    answer: (a: ApprovalAnswer) => Promise<boolean>,
  ): Promise<void>;
}

export interface AskOptions {
  queue: ApprovalQueue;
  /** The same timeout decide() applies; stored so lists can show the time left. */
  timeoutMs: number;
  prompter?: ApprovalPrompter | undefined;
  onPending?: (p: PendingApproval) => void;
}

export function queuedApprover(opts: AskOptions): (req: AskRequest) => Promise<ApprovalAnswer> {
  return async (req) => {
    const p = await opts.queue.add(req, opts.timeoutMs);
    const answer = opts.queue.wait(p, req.signal);
    if (opts.prompter) void opts.prompter.ask(p, req.signal, (a) => opts.queue.answer(p.id, a, p.session));
    opts.onPending?.(p);
    return answer;
  };
}
