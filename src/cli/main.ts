/**
 * The CLI edge: builds the command tree, turns `corral c` into `corral run claude`, and is the one
 * place errors are caught and printed (no stack trace unless --debug).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { dataFile } from '../core/data-dir.js';
import { CorralError, diskFull, isCorralError } from '../errors.js';
import { COMMANDS, type CommandEntry, commandNamed } from './command-table.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The command tree: every command (help, an unknown word), or only `only` (a run of that command;
 * its help and errors read the same, as they name no other command).
 */
export async function buildProgram(only?: CommandEntry[]): Promise<Command> {
  const program = new Command('corral')
    .description('Run AI coding agents in hardened, isolated sandboxes on Podman or Docker.')
    .version(pkg.version, '-V, --version')
    .option(
      '--engine <engine>',
      'podman, docker, kubernetes, ssh://user@host[:port] (an engine on another machine), or a socket URL (default: detect; env CORRAL_ENGINE)',
    )
    .option('--remote <name>', 'use a remote engine added with `corral remote add`')
    .option('--config <file>', 'config file (default: ~/.config/corral/config.yaml; env CORRAL_CONFIG)')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nShortcuts: `corral <agent> [options]` is `corral run <agent>`, e.g. `corral c` for Claude Code.\nFirst time? `corral demo` runs Claude Code against a built-in scripted model.',
    );
  const entries = only ?? COMMANDS;
  const commands = await Promise.all(entries.map((e) => e.load()));
  entries.forEach((e, i) => {
    program.addCommand(commands[i]!, e.hidden ? { hidden: true } : {});
  });
  return program;
}

const VALUE_OPTIONS = new Set(['--engine', '--remote', '--config']);

/** Where the command word is in `args`: after global options and the values of those that take one. */
function commandIndex(args: string[]): number {
  let first = 0;
  while (first < args.length && args[first]!.startsWith('-'))
    first += VALUE_OPTIONS.has(args[first]!) ? 2 : 1;
  return first;
}

/** `corral c …` → `corral run c …` when the first word is an agent, not a command. */
export async function expandShortcut(args: string[]): Promise<string[]> {
  const first = commandIndex(args);
  const word = args[first];
  if (word === undefined || word === 'help' || commandNamed(word)) return args;
  const { findAgent } = await import('../core/index.js');
  if (!findAgent(word)) return args;
  return [...args.slice(0, first), 'run', ...args.slice(first)];
}

/**
 * The commands a run of `args` needs: the one it names; none for `--version` alone; all for help
 * and for a word that names none (commander then says so, with its suggestions).
 */
function commandsFor(args: string[]): CommandEntry[] | undefined {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--help') || own.includes('-h')) return undefined;
  const word = args[commandIndex(args)];
  if (word === undefined) return own.includes('--version') || own.includes('-V') ? [] : undefined;
  const entry = commandNamed(word);
  return entry ? [entry] : undefined;
}

/** An error as `--json` commands print it, on stdout: `{"error":{"code","message","hint"}}`. */
export function jsonError(e: unknown): string {
  e = asKnown(e);
  const error = isCorralError(e)
    ? { code: e.code, message: e.message, hint: e.hint ?? null }
    : {
        code: 'UNEXPECTED',
        message: `unexpected error: ${e instanceof Error ? e.message : String(e)}`,
        hint: 'run again with --debug for details, and report it if it persists.',
      };
  return `${JSON.stringify({ error })}\n`;
}

/**
 * Errors users can act on though no module named them: a full disk, wherever corral wrote (a
 * failed write names no file: then the folder corral writes most to is named).
 */
function asKnown(e: unknown): unknown {
  if (isCorralError(e)) return e;
  const where = (e as NodeJS.ErrnoException | undefined)?.path ?? `corral's data folder, ${dataFile('')}`;
  return diskFull(e, where) ?? e;
}

function printError(e: unknown, debug: boolean, json = false): number {
  const err = process.stderr;
  e = asKnown(e);
  if (json) {
    process.stdout.write(jsonError(e));
    if (debug && e instanceof Error)
      err.write(`${(isCorralError(e) && (e.cause as Error)?.stack) || e.stack}\n`);
    return isCorralError(e) && e.code === 'INTERRUPTED' ? 130 : 1;
  }
  if (isCorralError(e)) {
    err.write(`corral: ${e.message}\n`);
    if (e.hint) err.write(`hint: ${e.hint}\n`);
    if (debug && e.cause) err.write(`${(e.cause as Error).stack ?? e.cause}\n`);
    return e.code === 'INTERRUPTED' ? 130 : 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  err.write(`corral: unexpected error: ${message}\n`);
  if (debug && e instanceof Error) err.write(`${e.stack}\n`);
  else err.write('hint: run again with --debug for details, and report it if it persists.\n');
  return 1;
}

/**
 * `corral --help | head` closes the pipe early; that is the reader's choice, not an error. Cleanup
 * (stopping an attached sandbox) still runs, since nothing is thrown.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export async function main(argv: string[] = process.argv): Promise<number> {
  ignoreClosedPipes();
  const args = await expandShortcut(argv.slice(2));
  const program = await buildProgram(commandsFor(args));
  const debug = args.includes('--debug');
  // --json before `--` (after it, words belong to the agent): errors come as JSON on stdout too.
  const ownArgs = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const json = ownArgs.includes('--json');
  const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
  for (const c of everyCommand(program)) {
    c.exitOverride();
    // Usage errors (unknown option, missing argument) as JSON instead of commander's text.
    if (json) c.configureOutput({ outputError: () => {} });
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      const usage = e.exitCode !== 0 && !['commander.helpDisplayed', 'commander.version'].includes(e.code);
      if (json && usage) {
        const message = e.message.replace(/^error: /, '');
        process.stdout.write(jsonError(new CorralError('BAD_INPUT', message, 'run with --help for usage')));
      }
      return e.exitCode;
    }
    if (isEngineGone(e)) {
      return printError(
        new CorralError(
          'ENGINE_UNREACHABLE',
          `The container engine stopped answering: ${(e as Error).message}`,
          'Check that Podman or Docker is running (`corral doctor` later).',
        ),
        debug,
        json,
      );
    }
    const status = (e as { statusCode?: number })?.statusCode;
    if (status) {
      const detail = (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
      return printError(
        new CorralError('ENGINE_ERROR', `The container engine refused: ${detail}`, undefined, { cause: e }),
        debug,
        json,
      );
    }
    return printError(e, debug, json);
  }
}

function isEngineGone(e: unknown): boolean {
  const { code, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  return syscall === 'connect' || code === 'EPIPE' || code === 'ECONNRESET';
}
