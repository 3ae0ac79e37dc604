/**
 * When services go. A service an agent started belongs to its session; the workspace's configured
 * services (`services:`) are shared by its sessions like the gateway is. Whatever is no longer
 * owned by a live session is removed: at a session's end, and (after a corral killed outright) by
 * the next run, `corral services` or `corral stop` in the workspace.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine } from '../engine/index.js';
import { gatewayDirs } from '../gateway/folders.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import { removeService } from './lifecycle.js';
import { dropServicesNetworkIfUnused } from './network.js';
import { listServices } from './query.js';
import { syncRoutes } from './routes.js';
import type { ServiceInfo } from './types.js';

/** A run holds a gateway lease from before its services start until it ends; fresh ones count. */
const LEASE_FRESH_MS = 60_000;

/** Sessions of the workspace that are alive: a running sandbox, or a run still starting. */
async function liveSessions(engine: ContainerEngine, ws: Workspace): Promise<Set<string>> {
  const running = await engine.list({
    labels: [`${LABELS.managed}=true`, `${LABELS.workspace}=${ws.id}`, `${LABELS.role}=agent`],
    all: false,
  });
  const live = new Set(running.map((c) => c.labels[LABELS.session] ?? ''));
  const dir = join(gatewayDirs(engine, ws.id).root, 'leases');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const mtime = (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0;
    if (Date.now() - mtime < LEASE_FRESH_MS) live.add(name);
  }
  return live;
}

async function removeAll(engine: ContainerEngine, ws: Workspace, doomed: ServiceInfo[]): Promise<string[]> {
  for (const s of doomed) await removeService(engine, ws, s);
  if (doomed.length) await syncRoutes(engine, ws).catch(() => {});
  await dropServicesNetworkIfUnused(engine, ws);
  return doomed.map((s) => s.name);
}

/** A session ends (however it ends): its own services go, and the shared ones if it was the last. */
export async function stopSessionServices(
  engine: ContainerEngine,
  ws: Workspace,
  session: string,
): Promise<string[]> {
  // Most runs have no services: one listing, and nothing else to ask the engine.
  const services = await listServices(engine, ws);
  if (!services.length) return [];
  const others = await liveSessions(engine, ws);
  others.delete(session);
  const doomed = services.filter((s) => (s.origin === 'config' ? others.size === 0 : s.session === session));
  return removeAll(engine, ws, doomed);
}

/** Remove the services no live session owns any more; returns those removed and those left. */
export async function reapAndList(
  engine: ContainerEngine,
  ws: Workspace,
): Promise<{ reaped: string[]; left: ServiceInfo[] }> {
  const services = await listServices(engine, ws);
  if (!services.length) return { reaped: [], left: [] };
  const live = await liveSessions(engine, ws);
  const orphan = (s: ServiceInfo) => (s.origin === 'config' ? live.size === 0 : !live.has(s.session));
  const reaped = await removeAll(engine, ws, services.filter(orphan));
  return { reaped, left: services.filter((s) => !orphan(s)) };
}

/** Services no live session owns any more. Returns the names removed. */
export async function reapOrphans(engine: ContainerEngine, ws: Workspace): Promise<string[]> {
  return (await reapAndList(engine, ws)).reaped;
}
