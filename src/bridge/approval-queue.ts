/**
 * Pending approvals as files, so a person can answer from any terminal (`corral approvals`) while
 * the bridge that asked — an attached run, or the detached bridge process — waits for the answer.
 *
 *   <root>/<session>/<id>.json     the request (0600, written atomically), removed once settled
 *   <root>/<session>/<id>.answer   the answer, created exclusively: the first answer wins
 *
 * The answer file is the one source of truth: an attached run's terminal prompt answers through it
 * too, so a key pressed in the terminal and `corral approvals allow` in another one cannot both win.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, watch } from 'node:fs';
import { chmod, link, mkdir, readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
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

  /** Write a request; returns it (with its id) once it is on disk. */
  async add(req: AskRequest, timeoutMs: number, now = Date.now()): Promise<PendingApproval> {
    const dir = this.dir(req.session);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700).catch(() => {});
    const pending: PendingApproval = {
      id: randomBytes(4).toString('hex'),
      kind: req.kind,
      workspace: req.workspace,
      session: req.session,
      details: requestDetails(req),
      created: now,
      expires: now + timeoutMs,
      pid: process.pid,
    };
    await writeJson(join(dir, `${pending.id}.json`), pending);
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
    const dir = this.dir(found.session);
    const request = join(dir, `${id}.json`);
    // A request already settled has nothing left to answer.
    if (!existsSync(request)) return false;
    const ok = await this.link(dir, id, answer);
    // Settling removes the request, then its answer (and the folder): an answer that landed in
    // between came too late and counts for nothing; what it left behind goes.
    if (existsSync(request)) return ok;
    if (ok) await unlink(join(dir, `${id}.answer`)).catch(() => {});
    await rmdir(dir).catch(() => {});
    return false;
  }

  /** Take the answer slot: link() refuses an existing name, exclusive and atomic, unlike rename. */
  private async link(dir: string, id: string, answer: ApprovalAnswer): Promise<boolean> {
    const tmp = join(dir, `${id}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, `${answer}\n`, { mode: 0o600, flag: 'wx' });
      await link(tmp, join(dir, `${id}.answer`));
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
      for (const name of names) {
        const id = name.slice(0, -'.json'.length);
        if (!name.endsWith('.json') || !validApprovalId(id) || names.includes(`${id}.answer`)) continue;
        const p = await readPending(join(dir, name));
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
    const dir = this.dir(p.session);
    const answerFile = join(dir, `${p.id}.answer`);
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
            if (name === `${p.id}.answer`) check();
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

  /** Remove a request's files (and its session folder when empty). */
  async settle(p: Pick<PendingApproval, 'id' | 'session'>): Promise<void> {
    const dir = this.dir(p.session);
    await unlink(join(dir, `${p.id}.json`)).catch(() => {});
    await unlink(join(dir, `${p.id}.answer`)).catch(() => {});
    await rmdir(dir).catch(() => {});
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
