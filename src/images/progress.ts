/**
 * Build progress people can watch: "[2/4] node: Node 22.23.3 toolchain … 12.3s". On a terminal one
 * line ticks every second; in logs a heartbeat line every 15 s, so a two-minute build is never
 * silent. The last lines of build output are kept for the error report when a step fails.
 */
export interface Progress {
  /** Start a step (ending the previous one); `index`/`total` once the plan is known. */
  step(label: string, index?: number, total?: number): void;
  /** One line of build output (kept for error reports; shown only when verbose). */
  line(text: string): void;
  /** End the current step successfully, then print `summary`. */
  done(summary?: string): void;
  /** End the current step as failed. */
  fail(): void;
  /** The last lines of output of the current step, for error messages. */
  tail(): string[];
}

/** What consoleProgress writes to: process.stderr, or a fake in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const KEEP = 20;
export const HEARTBEAT_MS = 15_000;

/** 12.3s under a minute, 2m05s above. */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function keeper() {
  const recent: string[] = [];
  return {
    push(text: string) {
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        recent.push(l);
        if (recent.length > KEEP) recent.shift();
      }
    },
    clear: () => {
      recent.length = 0;
    },
    get: () => [...recent],
  };
}

export function consoleProgress(
  stream: ProgressStream,
  opts: { quiet?: boolean; verbose?: boolean } = {},
): Progress {
  const tty = Boolean(stream.isTTY);
  const recent = keeper();
  let label = '';
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const since = () => Date.now() - started;
  const write = (s: string) => {
    if (!opts.quiet) stream.write(s);
  };
  // On a terminal the ticking line is rewritten in place; `\r\x1b[2K` clears it first.
  const clear = tty ? '\r\x1b[2K' : '';
  const finish = (outcome: string) => {
    if (!label) return;
    clearInterval(timer);
    timer = undefined;
    write(`${clear}${label} … ${outcome} ${formatElapsed(since())}\n`);
    label = '';
  };
  return {
    step(text, index, total) {
      finish('done in');
      label = index !== undefined && total !== undefined ? `[${index}/${total}] ${text}` : text;
      started = Date.now();
      recent.clear();
      if (tty) {
        write(`${label} …`);
        timer = setInterval(() => write(`${clear}${label} … ${Math.floor(since() / 1000)}s`), 1000);
      } else {
        write(`${label} …\n`);
        timer = setInterval(
          () => write(`${label} … still working, ${formatElapsed(since())}\n`),
          HEARTBEAT_MS,
        );
      }
      timer.unref();
    },
    line(text) {
      recent.push(text);
      if (!opts.verbose) return;
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        write(`${clear}  ${l}\n`);
        if (tty && label) write(`${label} … ${Math.floor(since() / 1000)}s`);
      }
    },
    done(summary) {
      finish('done in');
      if (summary) write(`${summary}\n`);
    },
    fail() {
      finish('failed after');
    },
    tail: () => recent.get(),
  };
}

/** For library callers and tests that want no output. */
export function silentProgress(): Progress {
  const recent = keeper();
  return {
    step: () => recent.clear(),
    line: (t) => recent.push(t),
    done: () => {},
    fail: () => {},
    tail: () => recent.get(),
  };
}
