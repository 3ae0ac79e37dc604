/**
 * Leftovers of a corral that was killed mid-start (SIGKILL, OOM, a closed laptop): sandboxes and
 * port relays it created but never started, or that exited with nobody left to remove them. The
 * next start in the same workspace reaps them. A container is only reaped when its maker is known
 * to be gone: every container corral makes here carries its maker's host and pid.
 */
import { hostname } from 'node:os';
import type { ContainerEngine, ContainerSpec, ContainerSummary } from '../engine/index.js';
import { LABELS } from '../workspace/identity.js';

/** Roles whose lifetime is one corral process's start (gateway and services have their own owners). */
const REAPED_ROLES = new Set(['agent', 'ports']);
// Podman reports a created container it has set up for attach as initialized.
const DONE_STATES = new Set(['created', 'initialized', 'configured', 'exited', 'stopped', 'dead']);
/** A container made by a corral from before owner labels: old enough, it is no start in flight. */
const UNOWNED_GRACE_S = 120;

const owner = () => `${hostname()}:${process.pid}`;

/** The spec, labelled with this process as its maker. */
export function owned(spec: ContainerSpec): ContainerSpec {
  return { ...spec, labels: { ...spec.labels, [LABELS.ownerPid]: owner() } };
}

function makerGone(label: string | undefined, created: number, now: number): boolean {
  if (!label) return now - created > UNOWNED_GRACE_S;
  const at = label.lastIndexOf(':');
  const pid = Number(label.slice(at + 1));
  // Another machine's corral (a shared remote engine): its processes are not ours to judge.
  if (label.slice(0, at) !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: alive, someone else's. ESRCH: gone.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Whether a container is a leftover of this workspace that may go. Never a running one. */
export function isLeftover(c: ContainerSummary, workspaceId: string, now = Date.now() / 1000): boolean {
  if (c.labels[LABELS.managed] !== 'true' || c.labels[LABELS.workspace] !== workspaceId) return false;
  if (!REAPED_ROLES.has(c.labels[LABELS.role] ?? '') || !DONE_STATES.has(c.state)) return false;
  // An exited sandbox the user asked to keep (auto_remove: false / --rm=false) is not a leftover.
  if (['exited', 'stopped', 'dead'].includes(c.state) && c.labels[LABELS.autoRemove] === 'false')
    return false;
  return makerGone(c.labels[LABELS.ownerPid], c.created, now);
}

/** Remove this workspace's leftovers; returns their names. Errors are swallowed: it is housekeeping. */
export async function reapLeftovers(engine: ContainerEngine, workspaceId: string): Promise<string[]> {
  const all = await engine
    .list({ labels: [`${LABELS.managed}=true`, `${LABELS.workspace}=${workspaceId}`], all: true })
    .catch(() => []);
  const gone = all.filter((c) => isLeftover(c, workspaceId));
  await Promise.all(gone.map((c) => engine.remove(c.id, { force: true }).catch(() => undefined)));
  return gone.map((c) => c.name);
}
