/**
 * The published ports of a sandbox behind the gateway, which has no network of its own: a relay
 * container (local engines, Kubernetes) or SSH forwards from this machine (a remote engine).
 */
import type { ContainerEngine } from '../engine/index.js';
import { owned } from './orphans.js';
import { inboundSocket, parseInboundPorts, relayContainerSpec, type SandboxSpec } from './spec.js';

/** Start the port relay of a sandbox behind the gateway (if it publishes ports); returns its remover. */
export async function startPortRelay(
  engine: ContainerEngine,
  spec: SandboxSpec,
): Promise<() => Promise<void>> {
  // A remote engine: each port is an SSH forward from here to the sandbox's socket in the copy of
  // its inbound folder there, so nothing listens on a port on that machine (no relay container).
  const forward = engine.hostFolders?.forwardPort;
  if (forward && spec.portRelay) {
    const undo: (() => Promise<void>)[] = [];
    const removeAll = async () => {
      for (const u of undo) await u().catch(() => undefined);
    };
    try {
      for (const p of spec.ports)
        undo.push(
          await forward(p.hostIp, p.hostPort, inboundSocket(spec.portRelay.inboundDir, p.containerPort)),
        );
    } catch (e) {
      await removeAll();
      throw e;
    }
    return removeAll;
  }
  const relay = relayContainerSpec(spec);
  if (!relay) return async () => {};
  const stale = await engine.inspect(relay.name);
  if (stale) await engine.remove(stale.id, { force: true });
  const id = await engine.createContainer(owned(relay));
  const remove = async () => {
    await engine.remove(id, { force: true }).catch(() => undefined);
  };
  try {
    await engine.startContainer(id);
  } catch (e) {
    await remove();
    throw e;
  }
  return remove;
}

/**
 * Undo a remote sandbox's port forwards (a detached run's: an attached run undoes its own). A
 * forward is named by what it joins, so it is rebuilt from the ports on the sandbox's label.
 */
export async function unforwardPorts(
  engine: ContainerEngine,
  workspace: string,
  name: string,
  label: string | undefined,
): Promise<void> {
  const ports = parseInboundPorts(label);
  const unforward = engine.hostFolders?.unforwardPort;
  if (!ports.length || !unforward) return;
  const { gatewayDirs, inboundDir } = await import('../gateway/folders.js');
  const dir = inboundDir(gatewayDirs(engine, workspace).root, name);
  for (const p of ports) await unforward(p.hostIp, p.hostPort, inboundSocket(dir, p.containerPort));
}
