/**
 * Showing scan findings to a person: progress while a scan runs, one line per finding (its place,
 * rule and shape, never its value), and the question a start asks about untriaged findings.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Finding } from '../credentials/scan.js';

/** Progress appears only when a scan is slow enough that silence would look like a hang. */
const PROGRESS_AFTER_MS = 1000;

/** A path from the workspace is untrusted text: no control characters reach the terminal. */
export const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

export const location = (f: Finding): string => printable(f.line ? `${f.path}:${f.line}` : f.path);

/** Aligned `place  rule  description  (shape)` lines. */
export function findingLines(findings: Finding[]): string[] {
  const places = findings.map(location);
  const w1 = Math.max(0, ...places.map((p) => p.length));
  const w2 = Math.max(0, ...findings.map((f) => f.rule.length));
  return findings.map(
    (f, i) => `${places[i]!.padEnd(w1)}  ${f.rule.padEnd(w2)}  ${f.description}  (${f.preview})`,
  );
}

/** Scan progress on a terminal's stderr (a line that rewrites itself) or in a log (a line a second). */
export function scanProgress(stderr: Writable & { isTTY?: boolean }): ScanProgress {
  const started = Date.now();
  const tty = stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    onProgress(files: number, path: string) {
      const now = Date.now();
      if (now - started < PROGRESS_AFTER_MS || now - last < (tty ? 100 : 1000)) return;
      last = now;
      shown = true;
      const p = printable(path);
      const line = `scanning for credentials… ${files} files (${p.length > 60 ? `…${p.slice(-59)}` : p})`;
      stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
    done() {
      if (shown && tty) stderr.write('\r\x1b[K');
    },
  };
}

export type Decision = 'mask' | 'allow';

export interface ScanProgress {
  onProgress(files: number, path: string): void;
  done(): void;
}

/** Lines from a stream, one at a time; undefined once it ends (or on Ctrl-C at a terminal). */
function lineReader(input: Readable, output: Writable) {
  const terminal = (input as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({ input, output, terminal });
  const queue: (string | undefined)[] = [];
  let waiting: ((line: string | undefined) => void) | undefined;
  const push = (line: string | undefined) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(line);
    } else queue.push(line);
  };
  rl.on('line', (l) => push(l));
  rl.on('close', () => push(undefined));
  rl.on('SIGINT', () => rl.close());
  return {
    ask(question: string): Promise<string | undefined> {
      output.write(question);
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((r) => {
        waiting = r;
      });
    },
    close: () => rl.close(),
  };
}

/** Ask until the answer is one of `keys`; undefined when the input ends. */
async function choose(
  lines: ReturnType<typeof lineReader>,
  question: string,
  keys: string,
): Promise<string | undefined> {
  for (;;) {
    const answer = await lines.ask(question);
    if (answer === undefined) return undefined;
    const key = answer.trim().toLowerCase().slice(0, 1);
    if (key && keys.includes(key)) return key;
  }
}

/**
 * Show the untriaged findings and ask what to do: mask or allow them all, decide per file, or
 * abort. Returns path → decision, or undefined when the user aborted (or the input ended).
 */
export async function askTriage(
  findings: Finding[],
  io: { input: Readable; output: Writable },
): Promise<Map<string, Decision> | undefined> {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) byFile.set(f.path, [...(byFile.get(f.path) ?? []), f]);
  const files = [...byFile.keys()];
  const out = io.output;
  out.write(
    `\ncorral: ${findings.length} possible credential${findings.length === 1 ? '' : 's'} in this workspace that the agent would see:\n`,
  );
  for (const l of findingLines(findings)) out.write(`  ${l}\n`);
  out.write(
    '\n  m  mask: the sandbox sees an empty, read-only file in its place (remembered)\n' +
      '  a  allow: the sandbox sees the file (remembered until the file changes)\n' +
      '  b  abort: start nothing\n\n',
  );
  const lines = lineReader(io.input, out);
  try {
    const single = files.length === 1;
    const all = await choose(
      lines,
      single
        ? `${printable(files[0]!)}: [m]ask, [a]llow or a[b]ort? `
        : `All ${files.length} files: [m]ask all, [a]llow all, [e]ach file in turn, or a[b]ort? `,
      single ? 'mab' : 'mabe',
    );
    if (all === undefined || all === 'b') return undefined;
    const decide = (k: string): Decision => (k === 'm' ? 'mask' : 'allow');
    if (all !== 'e') return new Map(files.map((p) => [p, decide(all)]));
    const decisions = new Map<string, Decision>();
    for (const [path, fs] of byFile) {
      const n = fs.length === 1 ? '1 finding' : `${fs.length} findings`;
      const k = await choose(lines, `${printable(path)} (${n}): [m]ask, [a]llow or a[b]ort? `, 'mab');
      if (k === undefined || k === 'b') return undefined;
      decisions.set(path, decide(k));
    }
    return decisions;
  } finally {
    lines.close();
  }
}
