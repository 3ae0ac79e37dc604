/**
 * What every command needs: the core's context (config read once, engine found once) built from
 * the global flags and this process's env, with events rendered on the terminal. Commands get a
 * Context and never read globals or process.argv themselves.
 */
import type { Command } from 'commander';
import {
  askTriage,
  CoreContext,
  type CoreEvents,
  consoleProgress,
  type Stdio,
  scanProgress,
} from '../core/index.js';

export interface GlobalOptions {
  engine?: string;
  remote?: string;
  config?: string;
  debug?: boolean;
}

/** This process's terminal, as the core's Stdio (resizes: SIGWINCH). */
export const processStdio = (): Stdio => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onResize: (listener) => {
    process.on('SIGWINCH', listener);
    return () => process.off('SIGWINCH', listener);
  },
});

/** The core's events on a terminal: notes and progress on stderr, questions only where one can answer. */
export function terminalEvents(io: Stdio): CoreEvents {
  return {
    note: (text) => io.stderr.write(`${text}\n`),
    progress: () => consoleProgress(io.stderr as Stdio['stderr'] & { isTTY?: boolean }),
    scanProgress: () => scanProgress(io.stderr as Stdio['stderr'] & { isTTY?: boolean }),
    ...(io.stdin.isTTY
      ? { askCredentials: (findings) => askTriage(findings, { input: io.stdin, output: io.stderr }) }
      : {}),
  };
}

export class Context extends CoreContext {
  readonly io: Stdio;

  constructor(
    readonly globals: GlobalOptions,
    env: NodeJS.ProcessEnv = process.env,
    io?: Stdio,
  ) {
    const stdio = io ?? processStdio();
    super({
      env,
      cwd: process.cwd(),
      configPath: globals.config,
      engine: globals.engine,
      remote: globals.remote,
      events: terminalEvents(stdio),
    });
    this.io = stdio;
  }

  static of(cmd: Command): Context {
    let root = cmd;
    while (root.parent) root = root.parent;
    return new Context(root.opts<GlobalOptions>());
  }

  print(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}
