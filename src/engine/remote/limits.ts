/**
 * What a remote engine cannot do yet, said before anything is made. Another isolation level on
 * Podman: Podman 4.3 takes the OCI runtime per API service, not per container, so corral starts a
 * second service with that runtime beside the main socket (podman-runtime.ts). For a remote engine
 * that socket is the SSH forward in this machine's private folder, so the service would start
 * here, on this machine's Podman, and the container land on the wrong machine (seen: `corral
 * doctor` on ssh://… made its gVisor probe here, then the remote service found no such container).
 * Docker there picks the runtime per container by its registered name, so it is not refused.
 */
import { CorralError } from '../../errors.js';
import type { Isolation } from '../isolation.js';
import type { EngineKind } from '../types.js';

export function remoteIsolationRefused(
  engine: { readonly kind: EngineKind; readonly remote?: string | undefined },
  isolation: Isolation | undefined,
): CorralError | undefined {
  if (!engine.remote || engine.kind !== 'podman' || !isolation || isolation === 'runc') return undefined;
  return new CorralError(
    'UNSUPPORTED',
    `--isolation ${isolation} is not offered on the remote Podman engine ${engine.remote}: Podman picks the runtime per API service, and corral can start that service only on this machine.`,
    'Use --isolation runc there (or no isolation setting), or a remote Docker engine with the runtime registered (corral remote add NAME URL --engine docker; see "Isolation levels").',
  );
}
