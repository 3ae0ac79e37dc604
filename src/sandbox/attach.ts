/**
 * Connecting a terminal or a pair of pipes to a sandbox. With a TTY the terminal goes raw and every
 * key (Ctrl-C included) goes to the agent; without one, stdout and stderr are demultiplexed and
 * stdin's end is passed on, so editors can speak ACP/JSON-RPC through corral byte for byte.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { ContainerEngine } from '../engine/index.js';

export interface Stdio {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: Writable;
  /** Calls `listener` when the viewer's terminal changes size; returns the unsubscribe. Default: SIGWINCH. */
  onResize?: (listener: () => void) => () => void;
}

/**
 * Lets something else use the terminal for a moment (an approval prompt): `hold` stops passing the
 * sandbox's output to the terminal (kept, in order) and the user's keys to the sandbox; `release`
 * writes what was kept and, with `redraw`, nudges the terminal size so a full-screen agent
 * repaints over whatever was printed meanwhile.
 */
export interface AttachControl {
  hold(): void;
  release(opts?: { redraw?: boolean }): void;
}

/** Output kept while held, beyond which the sandbox is made to wait (backpressure) instead. */
const HOLD_LIMIT = 4 * 1024 * 1024;

export const processStdio = (): Stdio => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});

/** Wire `stream` to stdio; returns a function that undoes it (restores the terminal). */
export function connect(
  engine: ContainerEngine,
  stream: Duplex,
  io: Stdio,
  opts: {
    tty: boolean;
    stdin: boolean;
    resize?: (rows: number, cols: number) => Promise<void>;
    /** Sees every chunk of terminal output (transcripts). */
    record?: (chunk: Buffer) => void;
    /** Receives the control for holding the terminal (TTY sessions only). */
    control?: (c: AttachControl) => void;
  },
): () => void {
  const undo: (() => void)[] = [];
  // Keys typed while the sandbox exits race the engine closing the connection; a write that
  // lands after that is not an error worth crashing over.
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET')
      io.stderr.write(`corral: connection to the sandbox failed: ${e.message}\n`);
  };
  stream.on('error', onError);
  let held = false;
  if (opts.tty) {
    let kept: Buffer[] = [];
    let keptBytes = 0;
    const onOutput = (chunk: Buffer) => {
      if (!held) {
        io.stdout.write(chunk);
        return;
      }
      kept.push(chunk);
      keptBytes += chunk.length;
      if (keptBytes > HOLD_LIMIT) stream.pause();
    };
    stream.on('data', onOutput);
    undo.push(() => stream.off('data', onOutput));
    if (opts.record) stream.on('data', opts.record);
    if (io.stdin.isTTY && io.stdin.setRawMode) {
      io.stdin.setRawMode(true);
      undo.push(() => io.stdin.setRawMode?.(false));
    }
    if (opts.resize && io.stdout.isTTY) {
      const resize = () => void opts.resize?.(io.stdout.rows ?? 24, io.stdout.columns ?? 80);
      resize();
      if (io.onResize) undo.push(io.onResize(resize));
      else {
        process.on('SIGWINCH', resize);
        undo.push(() => process.off('SIGWINCH', resize));
      }
    }
    opts.control?.({
      hold: () => {
        held = true;
      },
      release: ({ redraw } = {}) => {
        held = false;
        const out = Buffer.concat(kept);
        kept = [];
        keptBytes = 0;
        if (out.length) io.stdout.write(out);
        stream.resume();
        // The same size twice sends no SIGWINCH: one column less, then the real size.
        if (redraw && opts.resize && io.stdout.isTTY) {
          const rows = io.stdout.rows ?? 24;
          const cols = io.stdout.columns ?? 80;
          void opts.resize(rows, Math.max(1, cols - 1)).then(() => opts.resize?.(rows, cols));
        }
      },
    });
  } else {
    engine.demux(stream, io.stdout, io.stderr);
  }
  if (opts.stdin) {
    const onData = (chunk: Buffer) => {
      if (!held && !stream.destroyed && stream.writable) stream.write(chunk);
    };
    // Without a TTY, end of input is passed on as a half-close so the process inside sees EOF.
    // A TTY has no EOF (Ctrl-D is a keystroke), and some engines drop a TTY session on
    // half-close before its last output arrives, so the connection stays open.
    const onEnd = () => {
      if (!opts.tty && !stream.destroyed) stream.end();
    };
    io.stdin.on('data', onData);
    io.stdin.once('end', onEnd);
    io.stdin.resume();
    undo.push(() => {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.pause();
    });
  }
  return () => {
    for (const u of undo.reverse()) u();
  };
}

/** Resolves when the stream has delivered everything (or after `ms`, if given, whichever first). */
export function drained(stream: Duplex, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    const t = ms === undefined ? undefined : setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}
