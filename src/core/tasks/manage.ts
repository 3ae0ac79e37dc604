/** `corral task list|status|logs|cancel|rm`: records, reconciled with what is still alive. */
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CorralError } from '../../errors.js';
import { dataDir } from '../../tasks/store.js';
import type { CoreContext } from '../context.js';
import type { RemoveTasksInput, TaskIdInput, TaskLogsInput } from '../types.js';
import { findTask, isFinished, reconcile, type TaskView, viewOf, withStore } from './records.js';

export async function listTasks(ctx: CoreContext): Promise<TaskView[]> {
  return withStore(ctx, (s) => s.list().map((t) => viewOf(reconcile(s, t))));
}

export async function taskStatus(ctx: CoreContext, input: TaskIdInput): Promise<TaskView> {
  return withStore(ctx, (s) => viewOf(reconcile(s, findTask(s, input.id))));
}

/**
 * The task's log so far, to `write`; with `follow`, what comes after too, until the task ends.
 * `signal` stops following early (the caller went away).
 */
export async function taskLogs(
  ctx: CoreContext,
  input: TaskLogsInput,
  write: (chunk: string) => void,
  signal?: AbortSignal,
): Promise<TaskView> {
  const task = await withStore(ctx, (s) => reconcile(s, findTask(s, input.id)));
  let offset = 0;
  const drain = async () => {
    const size = (await stat(task.logFile).catch(() => undefined))?.size ?? 0;
    if (size <= offset) return;
    const fh = await open(task.logFile, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      offset += bytesRead;
      write(buf.subarray(0, bytesRead).toString('utf8'));
    } finally {
      await fh.close();
    }
  };
  await drain();
  let now = task;
  while (input.follow && !isFinished(now) && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 300));
    now = await withStore(ctx, (s) => reconcile(s, findTask(s, task.id)));
    await drain();
  }
  await drain();
  return viewOf(now);
}

/** Stop a task: its runner stops its sandbox (SIGTERM, as for an attached run) and records why. */
export async function cancelTask(ctx: CoreContext, input: TaskIdInput): Promise<TaskView> {
  return withStore(ctx, async (s) => {
    const task = reconcile(s, findTask(s, input.id));
    if (isFinished(task)) return viewOf(task);
    s.update(task.id, { state: 'cancelled', ended: new Date().toISOString() });
    if (task.pid) {
      try {
        process.kill(task.pid, 'SIGTERM');
      } catch {}
    }
    // A sandbox left by a runner that cannot stop it any more (or is between steps) goes too.
    const engine = await ctx.engine();
    const c = await engine.inspect(task.container).catch(() => undefined);
    if (c?.running) await engine.stop(task.container, 5).catch(() => {});
    return viewOf({ ...task, state: 'cancelled' });
  });
}

/** Forget finished tasks: the record, the log and a clone corral made for it (a worktree stays). */
export async function removeTasks(ctx: CoreContext, input: RemoveTasksInput): Promise<string[]> {
  if (!input.all && !input.ids?.length)
    throw new CorralError(
      'BAD_INPUT',
      'Which tasks?',
      'Name task ids, or pass --all for every finished one.',
    );
  return withStore(ctx, async (s) => {
    const tasks = input.all
      ? s
          .list()
          .map((t) => reconcile(s, t))
          .filter(isFinished)
      : (input.ids ?? []).map((id) => reconcile(s, findTask(s, id)));
    const running = tasks.filter((t) => !isFinished(t));
    if (running.length) {
      throw new CorralError(
        'BAD_INPUT',
        `Task ${running.map((t) => t.id).join(', ')} is still ${running[0]!.state}.`,
        'Cancel it first: `corral task cancel ID`.',
      );
    }
    const root = dataDir(ctx.env);
    for (const t of tasks) {
      await rm(t.logFile, { force: true });
      // A clone corral made for the task goes with it (with its worktree); the user's repositories
      // and their worktrees stay (`corral worktree rm`).
      const clone = join(root, 'workspaces', t.id);
      if (await stat(clone).catch(() => undefined)) {
        if (t.worktree && t.workspace.startsWith(join(root, 'worktrees')))
          await rm(t.workspace, { recursive: true, force: true });
        await rm(clone, { recursive: true, force: true });
      }
      s.remove(t.id);
    }
    return tasks.map((t) => t.id);
  });
}
