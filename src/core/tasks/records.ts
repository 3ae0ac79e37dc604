/** Task records as the core hands them out, and finding one by id prefix. */
import { readFileSync } from 'node:fs';
import { CorralError } from '../../errors.js';
import { FINISHED, type TaskRecord, TaskStore } from '../../tasks/store.js';
import type { CoreContext } from '../context.js';

export type { TaskRecord, TaskState } from '../../tasks/store.js';

export interface TaskView {
  id: string;
  agent: string;
  prompt: string;
  workspace: string;
  source: string;
  worktree: string | null;
  branch: string | null;
  state: TaskRecord['state'];
  exitCode: number | null;
  created: string;
  started: string | null;
  ended: string | null;
  diffStat: string | null;
  sessionId: string | null;
  container: string;
  error: string | null;
}

export function viewOf(t: TaskRecord): TaskView {
  const { pid: _p, logFile: _l, options: _o, profile: _pr, ...view } = t;
  return view;
}

export const isFinished = (t: Pick<TaskRecord, 'state'>): boolean => FINISHED.includes(t.state);

/** Open the store for one use-case, closing it after. */
export async function withStore<T>(ctx: CoreContext, fn: (s: TaskStore) => T | Promise<T>): Promise<T> {
  const store = TaskStore.open(ctx.env);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

export function findTask(store: TaskStore, idOrPrefix: string): TaskRecord {
  const key = idOrPrefix.trim().toLowerCase();
  const found = /^[0-9a-f]{1,16}$/.test(key) ? store.byPrefix(key) : [];
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new CorralError(
      'BAD_INPUT',
      `Task id "${idOrPrefix}" is ambiguous: ${found.map((t) => t.id).join(', ')}.`,
      'Give more of the id.',
    );
  }
  throw new CorralError('NOT_FOUND', `No task "${idOrPrefix}".`, 'See `corral task list`.');
}

/** Is this pid still the runner of this task (not a process that reused the pid after a reboot)? */
function runnerAlive(t: TaskRecord): boolean {
  if (!t.pid) return false;
  try {
    process.kill(t.pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${t.pid}/cmdline`, 'utf8').includes(t.id);
  } catch {
    return true;
  }
}

/**
 * A task that says it is queued or running but whose runner is gone (killed, or the machine
 * restarted) can never finish: it is marked lost, with why.
 */
export function reconcile(store: TaskStore, t: TaskRecord): TaskRecord {
  if (isFinished(t) || runnerAlive(t)) return t;
  // A runner that is just starting has no pid yet: give it a moment.
  if (!t.pid && Date.now() - Date.parse(t.created) < 30_000) return t;
  const fields = {
    state: 'lost' as const,
    ended: new Date().toISOString(),
    error: 'its runner and sandbox are gone (killed, or the machine restarted) before it finished',
  };
  store.update(t.id, fields);
  return { ...t, ...fields };
}
