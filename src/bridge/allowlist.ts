/**
 * Which host commands run without asking. Per workspace (keyed by its real path, like the trust
 * store), the user keeps exact commands and prefix patterns (`npm test*`), each bound to the
 * content of the workspace files that decide what it does (bindings.ts). `corral allowed` edits
 * the same file. Entries written before bindings existed are plain strings: bound to nothing, so a
 * command whose tool has files asks again once.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import { parseArgv } from './argv.js';
import { type Binding, currentBinding, saveBinding } from './bindings.js';

export const allowlistPath = (): string => dataFile('allowed-commands.json');

export interface AllowedEntry {
  pattern: string;
  /** sha256 of the bound files' relevant part when allowed (bindings.ts). */
  binding?: string;
}

type Stored = string | AllowedEntry;
type Store = Record<string, Stored[]>;

/** Longest command accepted at all: approvals are read by a person. */
export const MAX_COMMAND_LENGTH = 8192;

export function normalizeCommand(command: string): string {
  return command.trim();
}

export function validateCommand(command: string): void {
  if (!command) throw new CorralError('BAD_INPUT', 'The command is empty.');
  if (command.length > MAX_COMMAND_LENGTH) {
    throw new CorralError('BAD_INPUT', `The command is longer than ${MAX_COMMAND_LENGTH} characters.`);
  }
  if (command.includes('\0')) throw new CorralError('BAD_INPUT', 'The command contains a NUL byte.');
}

/**
 * Does one allowlist entry cover this command? A prefix pattern approves arguments, not shell: the
 * command must be plain words (no `;`, `|`, redirection or substitution), and it then runs as those
 * words with nothing expanded, so `npm test*` covers neither `npm test; rm -rf ~` nor `$SECRET`.
 */
export function patternAllows(pattern: string, command: string): boolean {
  if (!pattern.endsWith('*')) return pattern === command;
  const prefix = pattern.slice(0, -1);
  if (!prefix.trim() || !command.startsWith(prefix)) return false;
  return parseArgv(command) !== undefined;
}

export function isAllowed(patterns: readonly string[], command: string): boolean {
  return patterns.some((p) => patternAllows(p, command));
}

/** The words a prefix pattern fixes: what follows them is the agent's (checked by risky-args.ts). */
export function fixedWords(pattern: string): number {
  if (!pattern.endsWith('*')) return Number.POSITIVE_INFINITY;
  const prefix = pattern.slice(0, -1);
  const words = parseArgv(prefix)?.argv.length ?? 0;
  // `npm te*`: the last word is only begun, so the agent's text continues it.
  return /\s$/.test(prefix) ? words : Math.max(0, words - 1);
}

// One writer at a time within this process, so concurrent "always" answers do not drop each other.
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

const entryOf = (s: unknown): AllowedEntry | undefined => {
  if (typeof s === 'string') return { pattern: s };
  if (typeof s !== 'object' || s === null || typeof (s as AllowedEntry).pattern !== 'string')
    return undefined;
  const { pattern, binding } = s as AllowedEntry;
  return typeof binding === 'string' ? { pattern, binding } : { pattern };
};

async function readStore(path: string): Promise<Record<string, AllowedEntry[]>> {
  const raw = (await readJson<Store>(path)) as Store;
  const out: Record<string, AllowedEntry[]> = {};
  for (const [ws, list] of Object.entries(raw)) {
    if (Array.isArray(list)) out[ws] = list.map(entryOf).filter((e): e is AllowedEntry => e !== undefined);
  }
  return out;
}

export async function listAllowedEntries(workspace: string, path = allowlistPath()): Promise<AllowedEntry[]> {
  return (await readStore(path))[workspace] ?? [];
}

export async function listAllowed(workspace: string, path = allowlistPath()): Promise<string[]> {
  return (await listAllowedEntries(workspace, path)).map((e) => e.pattern);
}

/** What an entry's binding is computed from: the pattern's fixed start, or the command itself. */
export const bindingCommand = (pattern: string): string =>
  pattern.endsWith('*') ? pattern.slice(0, -1).trim() : pattern;

/**
 * Add an exact command or a `prefix*` pattern, bound to `binding` (by default, the workspace's
 * files for its tool as they are now). Returns false when it was already there, bound the same.
 */
export async function addAllowed(
  workspace: string,
  pattern: string,
  path = allowlistPath(),
  binding?: Binding | null,
): Promise<boolean> {
  const entry = normalizeCommand(pattern);
  validateCommand(entry);
  if (entry === '*' || (entry.endsWith('*') && !entry.slice(0, -1).trim())) {
    throw new CorralError(
      'BAD_INPUT',
      'A bare * would allow every command.',
      'Allow a command with a fixed start, e.g. "npm test*".',
    );
  }
  const bound =
    binding === undefined && !entry.startsWith('service:')
      ? await currentBinding(workspace, bindingCommand(entry))
      : (binding ?? undefined);
  if (bound?.problem) {
    throw new CorralError('BAD_INPUT', `Cannot bind "${entry}" to the workspace: ${bound.problem}.`);
  }
  if (bound) await saveBinding(bound, path);
  return serialized(async () => {
    const store = await readStore(path);
    const list = store[workspace] ?? [];
    const at = list.findIndex((e) => e.pattern === entry);
    const next: AllowedEntry = bound ? { pattern: entry, binding: bound.hash } : { pattern: entry };
    if (at >= 0 && list[at]!.binding === next.binding) return false;
    store[workspace] = at >= 0 ? list.map((e, i) => (i === at ? next : e)) : [...list, next];
    await writeJson(path, store);
    return true;
  });
}

export async function removeAllowed(
  workspace: string,
  pattern: string,
  path = allowlistPath(),
): Promise<boolean> {
  const entry = normalizeCommand(pattern);
  return serialized(async () => {
    const store = await readStore(path);
    const list = store[workspace] ?? [];
    if (!list.some((e) => e.pattern === entry)) return false;
    const rest = list.filter((e) => e.pattern !== entry);
    if (rest.length) store[workspace] = rest;
    else delete store[workspace];
    await writeJson(path, store);
    return true;
  });
}
