/**
 * A shell joining a running sandbox may bring keys of its own (`corral shell -e KEY=…`): they go to
 * the workspace's running gateway, which injects them as it does a fresh run's, and the shell gets
 * their placeholders.
 */
import type { ContainerEngine } from '../engine/index.js';
import type { InjectedCredential } from '../workspace/placeholders.js';
import { gatewayName } from './container.js';
import { gatewayDirs, updateGatewaySettings } from './folders.js';
import { tookRevision, waitFor } from './readiness.js';

/**
 * Add `credentials` to what the running gateway injects and wait until it serves them. False when
 * no gateway runs for the workspace (nothing could inject them).
 */
export async function addGatewayCredentials(
  engine: ContainerEngine,
  workspaceId: string,
  credentials: readonly InjectedCredential[],
): Promise<boolean> {
  const gw = await engine.inspect(gatewayName(workspaceId));
  if (!gw?.running) return false;
  const dirs = gatewayDirs(engine, workspaceId);
  const revision = await updateGatewaySettings(dirs, (current) =>
    current ? { ...current, credentials: [...current.credentials, ...credentials] } : undefined,
  );
  if (revision === undefined) return false;
  await engine.hostFolders?.push(dirs.conf);
  await waitFor(engine, gw.id, () => tookRevision(engine, dirs, revision), "did not take the shell's keys");
  return true;
}
