/**
 * A bridge whose socket the engine carries into its pods itself (Kubernetes: an exec stream into
 * the pod that has the gateway's folder, engine relaySocket) listens where no container sees it:
 * beside the gateway's folders rather than in them (the gateway root is mounted into no container).
 * Attached runs (core/start/bridge.ts) and detached runs' sessions (session-host.ts) do the same.
 */
import { basename, dirname, join } from 'node:path';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';

/** Where a relayed bridge listens, for the socket the sandbox sees at `shared`. */
export function privateSocket(shared: string): string {
  return join(dirname(dirname(shared)), basename(shared));
}

/** Serve the bridge listening at `listenAt` at `shared` in the engine's pods; resolves to the undo. */
export function relayBridge(
  engine: ContainerEngine,
  shared: string,
  listenAt: string,
): Promise<() => Promise<void>> {
  if (!engine.relaySocket)
    throw new CorralError('ENGINE_ERROR', `The ${engine.kind} engine cannot relay the host bridge's socket.`);
  return engine.relaySocket(shared, listenAt);
}
