/**
 * Build progress people can watch: "[2/4] node: Node 22 toolchain … 12s". On a terminal one line
 * ticks every second; in logs a heartbeat line every 15 s, so a two-minute build is never silent.
 * The last lines of build output are kept to show when a step fails.
 */
export interface Progress {
  /** Start a step; `total` steps are known once the plan is made. */
  step(label: string, index?: number, total?: number): void;
  /** One line of build output (kept for error reports; shown only when verbose). */
  line(text: string): void;
  done(summary?: string): void;
  /** The last lines of output, for error messages. */
  tail(): string[];
}

export function consoleProgress(
  stream: NodeJS.WriteStream,
  opts: { quiet?: boolean; verbose?: boolean } = {},
): Progress {
  const tty = Boolean(stream.isTTY);
  let label = '';
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const recent: string[] = [];
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  const write = (s: string) => {
    if (!opts.quiet) stream.write(s);
  };
  const finishStep = () => {
    if (!label) return;
    if (timer) clearInterval(timer);
    timer = undefined;
    if (tty) write(`\r\x1b[2K${label} … done in ${elapsed()}\n`);
    else write(`${label} … done in ${elapsed()}\n`);
    label = '';
  };
  return {
    step(text, index, total) {
      finishStep();
      label = index !== undefined && total !== undefined ? `[${index}/${total}] ${text}` : text;
      started = Date.now();
      recent.length = 0;
      if (tty) {
        write(`${label} …`);
        timer = setInterval(() => write(`\r\x1b[2K${label} … ${elapsed()}`), 1000);
      } else {
        write(`${label} …\n`);
        timer = setInterval(() => write(`${label} … still working, ${elapsed()}\n`), 15_000);
      }
      timer.unref();
    },
    line(text) {
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        recent.push(l);
        if (recent.length > 20) recent.shift();
        if (opts.verbose) write(`${tty ? '\r\x1b[2K' : ''}  ${l}\n`);
      }
    },
    done(summary) {
      finishStep();
      if (summary) write(`${summary}\n`);
    },
    tail: () => [...recent],
  };
}

/** For library callers and tests that want no output. */
export const silentProgress = (): Progress => {
  const recent: string[] = [];
  return {
    step: () => {},
    line: (t) => {
      recent.push(t);
      if (recent.length > 20) recent.shift();
    },
    done: () => {},
    tail: () => [...recent],
  };
};
