/**
 * The workspace's services network: the services and the workspace's gateway are on it, the
 * sandboxes are not (they have no network at all and reach a service only through the gateway).
 */
import type { ContainerEngine } from '../engine/index.js';
import { gatewayName } from '../gateway/container.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import { servicesNetwork } from './names.js';
import { listServices } from './query.js';

/**
 * Internal (no way out for the services themselves) where the engine makes that work. Podman's
 * netavark adds no forwarding rules for internal networks, so on a host whose FORWARD policy is
 * DROP (any host that also runs Docker) containers on one cannot even reach each other; there the
 * network is an ordinary bridge, and services can reach out (the sandbox still cannot).
 */
export const internalNetwork = (engine: ContainerEngine): boolean => engine.kind === 'docker';

export async function ensureServicesNetwork(engine: ContainerEngine, ws: Workspace): Promise<string> {
  const name = servicesNetwork(ws.id);
  if (!(await engine.networkExists(name))) {
    try {
      await engine.createNetwork(name, {
        internal: internalNetwork(engine),
        labels: { [LABELS.managed]: 'true', [LABELS.workspace]: ws.id, [LABELS.role]: 'service' },
      });
    } catch (e) {
      // Another corral of this workspace made it a moment ago.
      if (!(await engine.networkExists(name))) throw e;
    }
  }
  await engine.connectNetwork(name, gatewayName(ws.id));
  return name;
}

/** Remove the network once no service of the workspace is left (the gateway is let go first). */
export async function dropServicesNetworkIfUnused(engine: ContainerEngine, ws: Workspace): Promise<void> {
  if ((await listServices(engine, ws)).length) return;
  const name = servicesNetwork(ws.id);
  if (!(await engine.networkExists(name))) return;
  await engine.disconnectNetwork(name, gatewayName(ws.id)).catch(() => {});
  await engine.removeNetwork(name).catch(() => {});
}
