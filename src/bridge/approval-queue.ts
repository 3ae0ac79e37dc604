/**
 * Pending approvals as files, so a person can answer from any terminal (`corral approvals`) while
 * the bridge that asked — an attached run, or the detached bridge process — waits for the answer.
 *
 *   <root>/<session>/<id>/request.json   the request (0600, written atomically)
 *   <root>/<session>/<id>/answer         the answer, created exclusively: the first answer wins
 *
 * The answer file is the one source of truth: an attached run's terminal prompt answers through it
 * too, so a key pressed in the terminal and `corral approvals allow` in another one cannot both win.
 * Settling renames the request's folder away before removing it, so an answer either lands in the
 * folder before that (and is what the waiter read, or loses to the no a timeout wrote first) or
 * finds no folder at all: there is no moment where the answer slot is free again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, watch } from 'node:fs';
import {
  chmod,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { dataFile, writeJson } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import type { ApprovalAnswer } from './approvals.js';

export const approvalsRoot = (): string => dataFile('approvals');

/** What is stored about a request: its kind and its plain fields (never a secret value). */
export interface PendingApproval {
  id: string;
  kind: string;
  workspace: string;
  session: string;
  /** The kind's own fields (command; image, name, envKeys; …), strings or lists of strings. */
  details: Record<string, string | string[]>;
  /** ms since the epoch. */
  created: number;
  expires: number;
  /** The asking process, so requests of a bridge that died are not offered. */
  pid: number;
}

/** A request as the bridge makes it: any kind, plus an abort signal (not stored). */
export interface AskRequest {
  kind: string;
  workspace: string;
  session: string;
  signal: AbortSignal;
}

const ID = /^[0-9a-f]{8}$/;
const SESSION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ANSWERS: readonly ApprovalAnswer[] = ['once', 'always', 'deny'];
const RESERVED = new Set(['kind', 'workspace', 'session', 'signal']);

export function validApprovalId(id: string): boolean {
  return ID.test(id);
}

/** The request's own fields, as stored: strings and string lists only (an AbortSignal is not data). */
export function requestDetails(req: object): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req)) {
    if (RESERVED.has(k)) continue;
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ApprovalQueue {
  constructor(readonly root: string = approvalsRoot()) {}

  private dir(session: string): string {
    if (!SESSION.test(session) || session.includes('..'))
      throw new CorralError('BAD_INPUT', `Invalid session id ${JSON.stringify(session)}.`);
    return join(this.root, session);
  }

  private requestDir(session: string, id: string): string {
    return join(this.dir(session), id);
  }

  /** Write a request; returns it (with its id) once it is on disk. */
  async add(req: AskRequest, timeoutMs: number, now = Date.now()): Promise<PendingApproval> {
    const id = randomBytes(4).toString('hex');
    const dir = this.requestDir(req.session, id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700).catch(() => {});
    const pending: PendingApproval = {
      id,
      kind: req.kind,
      workspace: req.workspace,
      session: req.session,
      details: requestDetails(req),
      created: now,
      expires: now + timeoutMs,
      pid: process.pid,
    };
    await writeJson(join(dir, 'request.json'), pending);
    return pending;
  }

  /**
   * Record an answer. Returns false when the request is not pending (unknown, settled, or
   * answered first by someone else).
   */
  async answer(id: string, answer: ApprovalAnswer, session?: string): Promise<boolean> {
    if (!validApprovalId(id) || !ANSWERS.includes(answer)) return false;
    const found = session ? { session } : await this.find(id);
    if (!found || !SESSION.test(found.session) || found.session.includes('..')) return false;
    // A settled request's folder is gone, so linking into it fails: too late counts for nothing.
    return this.link(this.requestDir(found.session, id), answer);
  }

  /** Take the answer slot: link() refuses an existing name, exclusive and atomic, unlike rename. */
  private async link(dir: string, answer: ApprovalAnswer): Promise<boolean> {
    const tmp = join(dir, `${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, `${answer}\n`, { mode: 0o600, flag: 'wx' });
      await link(tmp, join(dir, 'answer'));
      return true;
    } catch {
      return false;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /** Where a pending request lives, or undefined. */
  async find(id: string): Promise<PendingApproval | undefined> {
    if (!validApprovalId(id)) return undefined;
    return (await this.list()).find((p) => p.id === id);
  }

  /** Pending requests, oldest first: not answered, not expired, their bridge still running. */
  async list(opts: { workspace?: string; now?: number } = {}): Promise<PendingApproval[]> {
    const now = opts.now ?? Date.now();
    const sessions = await readdir(this.root).catch(() => [] as string[]);
    const out: PendingApproval[] = [];
    for (const session of sessions) {
      if (!SESSION.test(session)) continue;
      const dir = join(this.root, session);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const id of names) {
        if (!validApprovalId(id)) continue;
        if (existsSync(join(dir, id, 'answer'))) continue;
        const p = await readPending(join(dir, id, 'request.json'));
        if (!p || p.id !== id || p.session !== session) continue;
        // A bridge that died (killed, crashed) cannot settle its requests: forget them here.
        if (!alive(p.pid)) {
          await this.settle(p);
          continue;
        }
        if (p.expires <= now) continue;
        if (opts.workspace && p.workspace !== opts.workspace) continue;
        out.push(p);
      }
    }
    return out.sort((a, b) => a.created - b.created);
  }

  /**
   * Wait for the answer to a request this process added; resolves 'deny' when `signal` aborts
   * (timeout, client gone). Either way the request's files are removed.
   */
  async wait(p: PendingApproval, signal: AbortSignal, pollMs = 500): Promise<ApprovalAnswer> {
    const dir = this.requestDir(p.session, p.id);
    const answerFile = join(dir, 'answer');
    const read = async () => {
      const text = await readFile(answerFile, 'utf8').catch(() => undefined);
      const a = text?.trim() as ApprovalAnswer | undefined;
      return a && ANSWERS.includes(a) ? a : undefined;
    };
    try {
      return await new Promise<ApprovalAnswer>((resolve) => {
        let done = false;
        const finish = (a: ApprovalAnswer) => {
          if (done) return;
          done = true;
          watcher?.close();
          clearInterval(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(a);
        };
        const check = () => void read().then((a) => a && finish(a));
        // A timeout takes the answer slot itself, so a late `corral approvals allow` is told
        // the request is gone instead of believing it counted.
        const onAbort = () => void this.answer(p.id, 'deny', p.session).finally(() => finish('deny'));
        // inotify answers at once; the poll covers file systems where watching does not work.
        let watcher: ReturnType<typeof watch> | undefined;
        try {
          watcher = watch(dir, (_e, name) => {
            if (name === 'answer') check();
          });
          watcher.on('error', () => {});
        } catch {}
        const timer = setInterval(check, pollMs);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        check();
      });
    } finally {
      await this.settle(p);
    }
  }

  /**
   * Remove a request: its folder is renamed away first (atomic), so an answer arriving now finds
   * nothing to link into; then the folder, and the session's when empty, are removed.
   */
  async settle(p: Pick<PendingApproval, 'id' | 'session'>): Promise<void> {
    const dir = this.requestDir(p.session, p.id);
    const gone = join(this.dir(p.session), `.settled-${p.id}-${randomBytes(3).toString('hex')}`);
    try {
      await rename(dir, gone);
      await rm(gone, { recursive: true, force: true });
    } catch {
      // Settled already (by the waiter, or by a list that found its bridge gone).
    }
    await rmdir(this.dir(p.session)).catch(() => {});
  }
}

async function readPending(path: string): Promise<PendingApproval | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as PendingApproval;
    const ok =
      typeof v.id === 'string' &&
      typeof v.kind === 'string' &&
      typeof v.workspace === 'string' &&
      typeof v.session === 'string' &&
      typeof v.created === 'number' &&
      typeof v.expires === 'number' &&
      typeof v.pid === 'number' &&
      typeof v.details === 'object' &&
      v.details !== null;
    return ok ? v : undefined;
  } catch {
    return undefined;
  }
}
