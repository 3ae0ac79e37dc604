/**
 * How the core talks back to whoever called it. The CLI renders these on the terminal; the daemon
 * turns them into API events. The core itself never touches process.stdout/stderr/stdin.
 */
import type { Finding } from '../credentials/scan.js';
import type { Progress } from '../images/progress.js';
import type { Decision, ScanProgress } from './scan-prompt.js';

export interface CoreEvents {
  /** A line for the user: what corral did or skipped, warnings. */
  note(text: string): void;
  /** Progress of an image build (agent image, gateway image) the use-case has to make first. */
  progress(): Progress;
  /** Progress of the workspace credential scan before a start (none: silent). */
  scanProgress?(): ScanProgress;
  /**
   * Ask the user about credential-scan findings nobody has decided on yet. Absent (no terminal, an
   * API caller): the start is refused with the list. Undefined result: the user aborted.
   */
  askCredentials?(findings: Finding[]): Promise<Map<string, Decision> | undefined>;
}

/**
 * An attached run's or an exec's I/O: the CLI gives the process's streams, the daemon a WebSocket's.
 * `onResize` reports the viewer's terminal size changes (default: SIGWINCH of this process).
 */
export type { Stdio } from '../sandbox/attach.js';
