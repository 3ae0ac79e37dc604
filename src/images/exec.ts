/** Running host tools (debootstrap, tar, npm) with their output fed line by line to the progress. */
import { spawn } from 'node:child_process';

export class CommandFailed extends Error {
  constructor(
    message: string,
    /** The last lines the command printed, for error reports. */
    readonly tail: string[],
    /** Set when the command itself was not found. */
    readonly notFound = false,
  ) {
    super(message);
  }
}

/** Run `cmd args` to completion; every output line goes to `onLine`; rejects with CommandFailed. */
export function runLogged(
  cmd: string,
  args: string[],
  opts: { onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = opts.timeoutMs
      ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs).unref()
      : undefined;
    const feed = (stream: NodeJS.ReadableStream) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split(/\r?\n|\r/);
        rest = lines.pop() ?? '';
        for (const l of lines) emit(l);
      });
      stream.on('end', () => rest && emit(rest));
    };
    const emit = (l: string) => {
      if (!l.trim()) return;
      tail.push(l);
      if (tail.length > 40) tail.shift();
      opts.onLine?.(l);
    };
    feed(child.stdout);
    feed(child.stderr);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new CommandFailed(`${cmd}: ${e.message}`, tail, e.code === 'ENOENT'));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new CommandFailed(`${cmd} ${signal ? `was killed (${signal})` : `exited with ${code}`}`, tail),
        );
    });
  });
}
