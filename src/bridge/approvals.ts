/**
 * Which host commands run without asking. Per workspace (keyed by its real path, like the trust
 * store), the user keeps exact commands and prefix patterns (`npm test*`). `corral allowed` edits the
 * same file through listAllowed/addAllowed/removeAllowed.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import { dangerReason } from './danger.js';

export const allowlistPath = (): string => dataFile('allowed-commands.json');

type Store = Record<string, string[]>;

/**
 * Characters that let one command line run a second command, redirect files or substitute output.
 * A prefix pattern approves arguments, not whatever the agent appends, so a match requires the text
 * past the prefix to hold none of them (`npm test*` must not pass `npm test; rm -rf ~`).
 */
const CHAINING = /[;&|`<>\n\r()]|\$\(|\$\{/;

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

/** Does one allowlist entry cover this command? */
export function patternAllows(pattern: string, command: string): boolean {
  if (!pattern.endsWith('*')) return pattern === command;
  const prefix = pattern.slice(0, -1);
  if (!prefix.trim() || !command.startsWith(prefix)) return false;
  return !CHAINING.test(command.slice(prefix.length));
}

export function isAllowed(patterns: readonly string[], command: string): boolean {
  return patterns.some((p) => patternAllows(p, command));
}

// One writer at a time within this process, so concurrent "always" answers do not drop each other.
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

async function readStore(path: string): Promise<Store> {
  const raw = (await readJson<Store>(path)) as Store;
  const out: Store = {};
  for (const [ws, list] of Object.entries(raw)) {
    if (Array.isArray(list)) out[ws] = list.filter((p): p is string => typeof p === 'string');
  }
  return out;
}

export async function listAllowed(workspace: string, path = allowlistPath()): Promise<string[]> {
  return (await readStore(path))[workspace] ?? [];
}

/** Add an exact command or a `prefix*` pattern. Returns false when it was already there. */
export async function addAllowed(
  workspace: string,
  pattern: string,
  path = allowlistPath(),
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
  return serialized(async () => {
    const store = await readStore(path);
    const list = store[workspace] ?? [];
    if (list.includes(entry)) return false;
    store[workspace] = [...list, entry];
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
    if (!list.includes(entry)) return false;
    const rest = list.filter((p) => p !== entry);
    if (rest.length) store[workspace] = rest;
    else delete store[workspace];
    await writeJson(path, store);
    return true;
  });
}

interface ApprovalBase {
  workspace: string;
  session: string;
  /** The command, or for a service its allowlist entry `service:<image>`. */
  command: string;
  /** Aborted when the answer is no longer wanted (timeout, client gone): dismiss the prompt. */
  signal: AbortSignal;
}

/** A host command to run. */
export interface CommandApprovalRequest extends ApprovalBase {
  kind: 'command';
}

/** A service container to start: shown by image, name and env key names (values never). */
export interface ServiceApprovalRequest extends ApprovalBase {
  kind: 'service';
  image: string;
  name: string;
  envKeys: string[];
}

/** What the user is asked to approve. */
export type ApprovalRequest = CommandApprovalRequest | ServiceApprovalRequest;

/** Allowlist entries for service images start with this (`service:postgres:16`, `service:redis:*`). */
export const SERVICE_PREFIX = 'service:';

export type ApprovalAnswer = 'once' | 'always' | 'deny';

export type Verdict =
  | { run: true; via: 'allowlist' | 'once' | 'always' }
  | { run: false; reason: string; asked: boolean };

export interface DecideOptions {
  workspace: string;
  session: string;
  approve: (req: ApprovalRequest) => Promise<ApprovalAnswer>;
  allowlistPath: string;
  timeoutMs: number;
  /** The caller's cancellation (e.g. the MCP request was cancelled). */
  signal?: AbortSignal;
  home?: string;
  /** Set for a service: `command` is then its `service:<image>` entry, matched only by service entries. */
  service?: Pick<ServiceApprovalRequest, 'image' | 'name' | 'envKeys'>;
}

/** Danger check, then allowlist, then the user, with a timeout that counts as no. */
export async function decide(command: string, opts: DecideOptions): Promise<Verdict> {
  const danger = opts.service ? undefined : dangerReason(command, opts.workspace, opts.home);
  if (danger) return { run: false, reason: `refused without asking: ${danger}`, asked: false };
  const entries = (await listAllowed(opts.workspace, opts.allowlistPath)).filter(
    (p) => !opts.service || p.startsWith(SERVICE_PREFIX),
  );
  if (isAllowed(entries, command)) {
    return { run: true, via: 'allowlist' };
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error('timeout')), opts.timeoutMs);
  const onCancel = () => ctl.abort(new Error('cancelled'));
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const gone = new Promise<'deny'>((resolve) =>
    ctl.signal.addEventListener('abort', () => resolve('deny'), { once: true }),
  );
  let answer: ApprovalAnswer;
  let asking: Promise<ApprovalAnswer> = Promise.resolve('deny');
  try {
    const req: ApprovalRequest = opts.service
      ? { ...pick(opts), ...opts.service, command, kind: 'service', signal: ctl.signal }
      : { ...pick(opts), command, kind: 'command', signal: ctl.signal };
    asking = Promise.resolve().then(() => opts.approve(req));
    answer = await Promise.race([asking, gone]);
  } catch {
    answer = 'deny';
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCancel);
  }
  if (ctl.signal.aborted) {
    // The approver saw the abort too; a moment for it to withdraw the question (the queue's
    // request, a prompt on screen), so nobody is offered a question already answered no.
    await Promise.race([asking.catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    const why =
      (ctl.signal.reason as Error).message === 'timeout' ? 'no answer in time' : 'request cancelled';
    return { run: false, reason: `not approved (${why})`, asked: true };
  }
  ctl.abort(new Error('answered'));
  if (answer === 'always') {
    await addAllowed(opts.workspace, command, opts.allowlistPath);
    return { run: true, via: 'always' };
  }
  if (answer === 'once') return { run: true, via: 'once' };
  return { run: false, reason: 'the user declined', asked: true };
}

const pick = (o: DecideOptions) => ({ workspace: o.workspace, session: o.session });

/** The command as safe to print in a terminal prompt: control characters shown, not obeyed. */
export function displayCommand(command: string): string {
  return command.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
