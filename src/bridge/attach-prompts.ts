/** `corral attach` to a detached run: its bridge's approval requests, asked in this terminal. */
import type { AttachControl, Stdio } from '../sandbox/attach.js';
import { ApprovalQueue } from './approval-queue.js';
import { promptFromQueue } from './queue-prompter.js';
import { TerminalPrompter } from './terminal-prompt.js';

/** Returns what to do once the terminal control exists: start prompting; that returns the stop. */
export function attachPrompts(session: string, agent: string, io: Stdio): (c: AttachControl) => () => void {
  return (control) =>
    promptFromQueue(
      new ApprovalQueue(),
      session,
      new TerminalPrompter({ stdin: io.stdin, stderr: io.stderr }, control, agent),
    );
}
