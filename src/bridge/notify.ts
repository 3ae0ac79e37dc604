/**
 * Desktop notifications for the host user. The title and text come from the agent, so they reach
 * notify-send/osascript as plain arguments (never through a shell or a script string) and reach the
 * terminal only with control characters removed (no escape sequences from the sandbox).
 */
import { execFile } from 'node:child_process';

export const MAX_TITLE = 120;
export const MAX_BODY = 1000;

export function sanitizeText(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').replace(/\n{3,}/g, '\n\n');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
  });
}

export type Notifier = (title: string, body: string) => Promise<void>;

/** notify-send on Linux, osascript on macOS; a bell and a line on stderr when neither works. */
export function defaultNotifier(
  stderr: NodeJS.WritableStream = process.stderr,
  notifySend = 'notify-send',
): Notifier {
  return async (title, body) => {
    try {
      if (process.platform === 'darwin') {
        await run('osascript', [
          '-e',
          'on run argv',
          '-e',
          'display notification (item 2 of argv) with title (item 1 of argv)',
          '-e',
          'end run',
          title,
          body,
        ]);
      } else {
        await run(notifySend, ['--app-name=corral', '--', title, body]);
      }
    } catch {
      stderr.write(`\x07corral: ${title}: ${body.replace(/\n/g, ' ')}\n`);
    }
  };
}
