/**
 * Turning what changes on disk and in the engine into events: sandboxes starting and exiting,
 * approvals waiting and answered, egress denials (the audit logs' new lines), notifications and
 * services. Polled once a second: engine event streams differ between Podman and Docker, and the
 * queue, audit log and bridge state are files other corral processes write.
 */
import { chatHeads, holdGateway, type SandboxListing, type ServiceInfo } from '../core/index.js';
import type { DaemonContext } from './app.js';

const POLL_MS = 1000;
/** How long a workspace's gateway is kept up after its last sandbox (the CLI's own linger: 2 min). */
const WARM_MS = 15 * 60_000;

export function startWatching(d: DaemonContext): () => void {
  const sandboxes = new Map<string, { state: string; name: string; agent: string; workspace: string }>();
  const approvals = new Map<string, string>();
  const services = new Map<string, string>();
  const offsets = new Map<string, number>();
  const notified = new Map<string, number>();
  const warm = new Map<string, { release: () => void; active: number }>();
  const tasks = new Map<string, string>();
  const chats = new Map<string, string>();
  let first = true;
  let busy = false;

  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const list = await d.sandboxes.refresh();
      const seen = new Set<string>();
      const workspaces = new Map<string, string>();
      for (const s of list) {
        seen.add(s.id);
        if (s.running) workspaces.set(s.workspace, s.workspacePath);
        const before = sandboxes.get(s.id);
        const view = { id: s.id, name: s.name, agent: s.agent, workspace: s.workspacePath, state: s.state };
        if (!first && s.running && before?.state !== 'running') d.bus.publish('sandbox.started', view);
        if (!first && before?.state === 'running' && !s.running) d.bus.publish('sandbox.exited', view);
        sandboxes.set(s.id, { state: s.state, name: s.name, agent: s.agent, workspace: s.workspacePath });
      }
      for (const [id, s] of sandboxes) {
        if (seen.has(id)) continue;
        if (s.state === 'running') d.bus.publish('sandbox.exited', { id, ...s, state: 'removed' });
        sandboxes.delete(id);
      }
      await watchApprovals(d, approvals, first);
      const byWorkspace = workspaces.size
        ? await d.uc.servicesByWorkspace().catch(() => undefined)
        : undefined;
      for (const [id, path] of workspaces) {
        // A remote gateway's log is read over SSH: a failed look waits for the next tick alone.
        await watchAudit(d, id, path, offsets, first).catch((e: Error) =>
          process.stderr.write(`${new Date().toISOString()} watch: audit log of ${path}: ${e.message}\n`),
        );
        if (byWorkspace) watchServices(d, path, byWorkspace.get(id) ?? [], services, first);
        await keepWarm(d, warm, id).catch((e: Error) =>
          process.stderr.write(
            `${new Date().toISOString()} watch: gateway of ${path} not held: ${e.message}\n`,
          ),
        );
      }
      for (const [id, w] of warm) {
        if (Date.now() - w.active < WARM_MS) continue;
        w.release();
        warm.delete(id);
      }
      await watchNotifications(d, list, notified, first);
      await watchTasks(d, tasks, first);
      await watchChats(d, chats, first);
    } catch (e) {
      process.stderr.write(`${new Date().toISOString()} watch: ${(e as Error).message}\n`);
    } finally {
      first = false;
      busy = false;
    }
  };
  const timer = setInterval(tick, POLL_MS);
  void tick();
  return () => {
    clearInterval(timer);
    for (const w of warm.values()) w.release();
  };
}

/** A workspace with a running sandbox keeps its gateway up for WARM_MS after (no start per run). */
async function keepWarm(
  d: DaemonContext,
  warm: Map<string, { release: () => void; active: number }>,
  workspaceId: string,
): Promise<void> {
  const w = warm.get(workspaceId);
  if (w) {
    w.active = Date.now();
    return;
  }
  warm.set(workspaceId, { release: await holdGateway(d.uc.ctx, workspaceId), active: Date.now() });
}

async function watchApprovals(d: DaemonContext, known: Map<string, string>, first: boolean): Promise<void> {
  const now = await d.uc.approvals();
  const ids = new Set(now.map((a) => a.id));
  for (const a of now) {
    if (!known.has(a.id) && !first) d.bus.publish('approval.waiting', a);
    known.set(a.id, a.workspace);
  }
  for (const [id, workspace] of known) {
    if (ids.has(id)) continue;
    known.delete(id);
    d.bus.publish('approval.answered', { id, workspace });
  }
}

/**
 * New lines of a workspace's audit log, wherever its gateway writes it (on a remote engine, in the
 * copy on that machine); denials become events. The first look only skips ahead.
 */
async function watchAudit(
  d: DaemonContext,
  workspaceId: string,
  workspace: string,
  offsets: Map<string, number>,
  first: boolean,
): Promise<void> {
  const { entries, next } = await d.uc.auditSince(
    workspaceId,
    offsets.get(workspaceId) ?? (first ? undefined : 0),
  );
  offsets.set(workspaceId, next);
  for (const e of entries) {
    if (e.decision === 'allow') continue;
    d.bus.publish('egress.denied', {
      workspace,
      time: e.time,
      method: e.method,
      host: e.host,
      port: e.port,
      path: e.path ?? null,
      reason: e.reason ?? null,
      decision: e.decision,
      status: e.status,
    });
  }
}

function watchServices(
  d: DaemonContext,
  workspace: string,
  list: ServiceInfo[],
  known: Map<string, string>,
  first: boolean,
): void {
  const seen = new Set<string>();
  for (const s of list) {
    const key = `${workspace}\0${s.name}`;
    seen.add(key);
    const up = s.state === 'running';
    const before = known.get(key);
    if (!first && up && before !== 'running')
      d.bus.publish('service.up', { workspace, name: s.name, image: s.image });
    if (!first && !up && before === 'running') d.bus.publish('service.down', { workspace, name: s.name });
    known.set(key, s.state);
  }
  for (const [key, state] of known) {
    if (!key.startsWith(`${workspace}\0`) || seen.has(key)) continue;
    if (state === 'running') d.bus.publish('service.down', { workspace, name: key.split('\0')[1] });
    known.delete(key);
  }
}

async function watchNotifications(
  d: DaemonContext,
  list: SandboxListing[],
  notified: Map<string, number>,
  first: boolean,
): Promise<void> {
  for (const s of list) {
    const n = s.lastNotification;
    if (!n) continue;
    if (notified.get(s.name) === n.at) continue;
    notified.set(s.name, n.at);
    if (!first)
      d.bus.publish('notification', { sandbox: s.name, agent: s.agent, workspace: s.workspacePath, ...n });
  }
}

/**
 * Task state changes (the store is written by each task's own runner process): a `task.state`
 * event for each, and a notification when one ends. Reading the list also marks tasks whose
 * runner is gone as lost.
 */
async function watchTasks(d: DaemonContext, known: Map<string, string>, first: boolean): Promise<void> {
  const list = await d.uc.tasks();
  for (const t of list) {
    const before = known.get(t.id);
    known.set(t.id, t.state);
    if (first || before === t.state) continue;
    const view = { id: t.id, agent: t.agent, state: t.state, exitCode: t.exitCode, workspace: t.workspace };
    d.bus.publish('task.state', view);
    if (['succeeded', 'failed', 'cancelled', 'lost'].includes(t.state)) {
      d.bus.publish('notification', {
        task: t.id,
        agent: t.agent,
        workspace: t.workspace,
        title: `Task ${t.id} ${t.state}`,
        body: `${t.agent}: ${t.prompt.split('\n')[0]!.slice(0, 80)}${t.exitCode !== null ? ` (exit ${t.exitCode})` : ''}`,
      });
    }
  }
  const ids = new Set(list.map((t) => t.id));
  for (const id of known.keys()) if (!ids.has(id)) known.delete(id);
}

/**
 * Multi-agent sessions talked to from anywhere (the CLI too): a `session.updated` event when a
 * session gets a message or an answer, so a viewer reloads it.
 */
async function watchChats(d: DaemonContext, known: Map<string, string>, first: boolean): Promise<void> {
  for (const h of await chatHeads(d.uc.ctx)) {
    const key = `${h.last}/${h.pending}`;
    const before = known.get(h.chatId);
    known.set(h.chatId, key);
    if (!first && before !== key)
      d.bus.publish('session.updated', { session: h.chatId, last: h.last, pending: h.pending });
  }
}
