/**
 * Who uses a workspace's gateway. A run holds a lease (an empty file named after its session) from
 * before it starts the gateway until its sandbox is up or gone; a running sandbox of the workspace
 * uses it too. Nobody using it means a run ending may stop it, and a run starting may hand it a
 * fresh policy instead of adding to the last run's.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine } from '../engine/index.js';
import { LABELS } from '../workspace/identity.js';

const LEASE_FRESH_MS = 60_000;

const leaseDir = (gatewayRoot: string) => join(gatewayRoot, 'leases');

export async function takeLease(gatewayRoot: string, session: string): Promise<void> {
  await mkdir(leaseDir(gatewayRoot), { recursive: true });
  await writeFile(join(leaseDir(gatewayRoot), session), '');
}

export async function dropLease(gatewayRoot: string, session: string): Promise<void> {
  await rm(join(leaseDir(gatewayRoot), session), { force: true });
}

/** A fresh lease of another run, or a running sandbox other than `stopped` (one just stopped). */
export async function gatewayInUse(
  engine: ContainerEngine,
  gatewayRoot: string,
  workspaceId: string,
  except: { session?: string; stopped?: string } = {},
): Promise<boolean> {
  const dir = leaseDir(gatewayRoot);
  for (const l of await readdir(dir).catch(() => [] as string[])) {
    if (l === except.session) continue;
    const age = Date.now() - ((await stat(join(dir, l)).catch(() => undefined))?.mtimeMs ?? 0);
    if (age < LEASE_FRESH_MS) return true;
  }
  // Running ones only: a run's own sandbox is created before its gateway takes its settings, and
  // a sandbox that has exited is not using the gateway (runs still starting hold leases).
  const running = await engine.list({
    labels: [`${LABELS.managed}=true`, `${LABELS.workspace}=${workspaceId}`, `${LABELS.role}=agent`],
    all: false,
  });
  const { stopped } = except;
  // Ids may be short or full depending on where they came from.
  const same = (id: string) => stopped !== undefined && (id.startsWith(stopped) || stopped.startsWith(id));
  return running.some((c) => !same(c.id));
}
