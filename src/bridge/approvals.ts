/**
 * Deciding whether a host command (or a service) runs: the danger check, then the allowlist with
 * its bindings and the arguments a prefix may not take, then the user.
 */
import { addAllowed, fixedWords, listAllowed, listAllowedEntries, patternAllows } from './allowlist.js';
import { execArgv, parseArgv } from './argv.js';
import { bindingDiff, currentBinding, shortHash } from './bindings.js';
import { dangerReason } from './danger.js';
import { riskyArgument } from './risky-args.js';
import { boundFilesOf, commandWord } from './tools-of.js';

export {
  addAllowed,
  allowlistPath,
  bindingCommand,
  isAllowed,
  listAllowed,
  listAllowedEntries,
  MAX_COMMAND_LENGTH,
  normalizeCommand,
  patternAllows,
  removeAllowed,
  validateCommand,
} from './allowlist.js';

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
  /** The workspace files that decide what it does, and their hash (shown when approving). */
  bound?: string[];
  binding?: string;
  /** Why it asks again though allowed: the allowed entry, and the diff of its bound files. */
  allowedAs?: string;
  changes?: string;
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
  | { run: true; via: 'allowlist' | 'once' | 'always'; argv: string[] }
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

/** What the allowlist says about a command: run it, refuse it, or ask (with what to show). */
type Lookup =
  | { kind: 'run'; argv: string[] }
  | { kind: 'refuse'; reason: string }
  | { kind: 'ask'; extra: Partial<CommandApprovalRequest>; rebind?: string };

async function lookup(command: string, opts: DecideOptions): Promise<Lookup> {
  const entries = await listAllowedEntries(opts.workspace, opts.allowlistPath);
  const bound = await currentBinding(opts.workspace, command);
  const shown = bound ? { bound: bound.files, binding: shortHash(bound.hash) } : {};
  if (bound?.problem) return { kind: 'refuse', reason: `refused without asking: ${bound.problem}` };
  const exact = entries.find((e) => e.pattern === command);
  const prefix = exact
    ? undefined
    : entries.find((e) => e.pattern.endsWith('*') && patternAllows(e.pattern, command));
  const entry = exact ?? prefix;
  if (!entry) return { kind: 'ask', extra: shown };
  if (prefix) {
    const words = parseArgv(command)!.argv;
    const { word } = commandWord(words);
    const after = words.slice(Math.min(fixedWords(prefix.pattern), words.length));
    const files = boundFilesOf(word, opts.workspace).map((f) => f.split('#')[0]!);
    const risky = riskyArgument(word, after, opts.workspace, files);
    if (risky) {
      return {
        kind: 'refuse',
        reason:
          `refused without asking: ${risky}, which the allowed prefix "${prefix.pattern}" does not cover. ` +
          'Run it without that argument, or ask the user to allow the exact command (corral allowed add).',
      };
    }
  }
  if ((bound?.hash ?? undefined) === entry.binding) {
    return { kind: 'run', argv: execArgv(command, entry === prefix) };
  }
  // The files that decide what it does changed since it was allowed (or it was never bound).
  const changes = bound
    ? await bindingDiff(entry.binding, bound, opts.allowlistPath)
    : 'the files it was bound to are gone';
  return { kind: 'ask', extra: { ...shown, allowedAs: entry.pattern, changes }, rebind: entry.pattern };
}

/** Danger check, then allowlist, then the user, with a timeout that counts as no. */
export async function decide(command: string, opts: DecideOptions): Promise<Verdict> {
  const danger = opts.service ? undefined : dangerReason(command, opts.workspace, opts.home);
  if (danger) return { run: false, reason: `refused without asking: ${danger}`, asked: false };
  let found: Lookup;
  if (opts.service) {
    const entries = (await listAllowed(opts.workspace, opts.allowlistPath)).filter((p) =>
      p.startsWith(SERVICE_PREFIX),
    );
    found = entries.some((p) => patternAllows(p, command))
      ? { kind: 'run', argv: [] }
      : { kind: 'ask', extra: {} };
  } else found = await lookup(command, opts);
  if (found.kind === 'refuse') return { run: false, reason: found.reason, asked: false };
  if (found.kind === 'run') return { run: true, via: 'allowlist', argv: found.argv };
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
      : { ...pick(opts), ...found.extra, command, kind: 'command', signal: ctl.signal };
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
  // What a person approved runs as they read it: through sh only where it needs one.
  const argv = execArgv(command);
  if (answer === 'always') {
    // A changed binding is approved on the entry that asked; anything else becomes an exact entry.
    const bound = opts.service ? null : await currentBinding(opts.workspace, command);
    await addAllowed(opts.workspace, found.rebind ?? command, opts.allowlistPath, bound ?? null);
    return { run: true, via: 'always', argv };
  }
  if (answer === 'once') return { run: true, via: 'once', argv };
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
