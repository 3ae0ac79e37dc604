/**
 * Asking in the terminal of an attached run. The agent owns that terminal (raw mode), so for each
 * prompt the attach is held (its output kept, the user's keys no longer passed on), the question
 * is printed on stderr and one key answers it. Prompts come one at a time; when the last is done
 * the kept output is written and the agent is nudged to repaint.
 *
 * The terminal never decides by itself: a key is handed to `answer` (the approval queue, where the
 * first answer wins), and a prompt whose request was settled elsewhere (`corral approvals`, the
 * timeout) is taken down.
 */
import type { Readable, Writable } from 'node:stream';
import type { PendingApproval } from './approval-queue.js';
import type { ApprovalAnswer } from './approvals.js';
import { ANSWER_WORDS, keyAnswer, promptText } from './prompt.js';

export interface TerminalHold {
  hold(): void;
  release(opts?: { redraw?: boolean }): void;
}

interface Job {
  p: PendingApproval;
  signal: AbortSignal;
  answer: (a: ApprovalAnswer) => Promise<boolean>;
  done: () => void;
}

export class TerminalPrompter {
  private readonly jobs: Job[] = [];
  private busy = false;

  constructor(
    private readonly io: { stdin: Readable; stderr: Writable },
    private readonly terminal: TerminalHold,
    private readonly agent: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Show `p` when earlier prompts are done; resolves when it is answered or taken down. */
  ask(
    p: PendingApproval,
    signal: AbortSignal,
    answer: (a: ApprovalAnswer) => Promise<boolean>,
  ): Promise<void> {
    return new Promise((resolve) => {
      this.jobs.push({ p, signal, answer, done: resolve });
      if (!this.busy) void this.next(false);
    });
  }

  private async next(shown: boolean): Promise<void> {
    const job = this.jobs.shift();
    if (!job) {
      this.busy = false;
      if (shown) this.terminal.release({ redraw: true });
      return;
    }
    this.busy = true;
    if (job.signal.aborted) {
      job.done();
      return this.next(shown);
    }
    if (!shown) this.terminal.hold();
    await this.show(job);
    job.done();
    return this.next(true);
  }

  private show(job: Job): Promise<void> {
    const { stdin, stderr } = this.io;
    stderr.write(`${promptText(job.p, this.agent, this.now())}`);
    return new Promise((resolve) => {
      const finish = (line: string) => {
        stdin.off('data', onKey);
        // Keep no terminal input flowing that nobody reads: it would keep corral from exiting.
        if (!stdin.listenerCount('data')) stdin.pause();
        job.signal.removeEventListener('abort', onAbort);
        stderr.write(`\r\ncorral: ${line}\r\n`);
        resolve();
      };
      let taken = false;
      const onKey = (chunk: Buffer) => {
        const a = taken ? undefined : keyAnswer(chunk);
        if (!a) return;
        taken = true;
        job.signal.removeEventListener('abort', onAbort);
        void job.answer(a).then((won) =>
          // Someone else answered first: their answer stands, and says so when it aborts.
          finish(won ? ANSWER_WORDS[a] : 'already answered elsewhere'),
        );
      };
      const onAbort = () => finish(abortWords(job.signal.reason));
      stdin.on('data', onKey);
      stdin.resume();
      job.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Why a prompt went away without a key: decide() aborts with one of these reasons. */
function abortWords(reason: unknown): string {
  const why = reason instanceof Error ? reason.message : '';
  if (why === 'timeout') return 'no answer in time: refused';
  if (why === 'answered') return 'answered with `corral approvals`';
  return 'the agent no longer waits for an answer';
}
