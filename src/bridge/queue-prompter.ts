/**
 * Asking in a terminal that did not start the bridge: `corral attach` to a detached run shows the
 * prompts of that run's bridge process, which asks through the approval queue. Requests are found
 * by watching the queue; one that leaves the queue (answered elsewhere, timed out) is taken down.
 */
import { watch } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApprovalQueue } from './approval-queue.js';
import type { TerminalPrompter } from './terminal-prompt.js';

/** Show `session`'s requests in `prompter` until the returned function is called. */
export function promptFromQueue(
  queue: ApprovalQueue,
  session: string,
  prompter: TerminalPrompter,
  pollMs = 500,
): () => void {
  const shown = new Map<string, { ctl: AbortController; expires: number }>();
  let stopped = false;
  let scanning = false;
  const scan = async () => {
    if (stopped || scanning) return;
    scanning = true;
    try {
      const pending = (await queue.list()).filter((p) => p.session === session);
      const ids = new Set(pending.map((p) => p.id));
      for (const [id, s] of shown) {
        if (ids.has(id)) continue;
        shown.delete(id);
        s.ctl.abort(new Error(Date.now() >= s.expires ? 'timeout' : 'answered'));
      }
      for (const p of pending) {
        if (shown.has(p.id) || stopped) continue;
        const ctl = new AbortController();
        shown.set(p.id, { ctl, expires: p.expires });
        void prompter.ask(p, ctl.signal, (a) => queue.answer(p.id, a, p.session));
      }
    } finally {
      scanning = false;
    }
  };
  const dir = join(queue.root, session);
  let watcher: ReturnType<typeof watch> | undefined;
  void mkdir(dir, { recursive: true, mode: 0o700 })
    .then(() => {
      if (stopped) return;
      watcher = watch(dir, () => void scan());
      watcher.on('error', () => {});
    })
    .catch(() => {});
  const timer = setInterval(() => void scan(), pollMs);
  void scan();
  return () => {
    stopped = true;
    clearInterval(timer);
    watcher?.close();
    for (const s of shown.values()) s.ctl.abort(new Error('detached'));
    shown.clear();
    void rmdir(dir).catch(() => {});
  };
}
