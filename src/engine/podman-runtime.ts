/**
 * Podman 4.3's API cannot pick an OCI runtime per container: libpod's create ignores the body's
 * `oci_runtime` (MakeContainer never reads it) and the compat create ignores HostConfig.Runtime.
 * The runtime is the API service's own (`podman --runtime X system service`). So containers on
 * another runtime are created through a second Podman service started with that runtime, on a
 * socket beside the main one; it shares the main one's storage, and the container records its
 * runtime's path, so the main service starts, attaches, stops and removes it as usual (verified).
 */
import { basename, dirname, join } from 'node:path';
import { CorralError } from '../errors.js';
import { probe, startPodmanService } from './detect.js';
import type { Transport } from './hijack.js';

const services = new Map<string, Promise<Transport>>();

/** The transport of a Podman service whose runtime is `runtimePath`, started if not running. */
export function runtimeService(main: Transport, runtimePath: string): Promise<Transport> {
  if (!main.socketPath) {
    return Promise.reject(
      new CorralError(
        'ENGINE_ERROR',
        'Another isolation level on Podman needs a local Podman socket (not a TCP endpoint).',
        'Use the local Podman service, or --isolation runc.',
      ),
    );
  }
  // The wrapper sits in a folder named by its content's hash: one service per runtime and flags.
  const socketPath = join(dirname(main.socketPath), `corral-${basename(dirname(runtimePath))}.sock`);
  let p = services.get(socketPath);
  if (p) return p;
  p = (async () => {
    if (await probe({ socketPath }, 1000)) return { socketPath };
    const started = await startPodmanService({
      command: 'podman',
      args: ['--runtime', runtimePath, 'system', 'service', '--time=0', `unix://${socketPath}`],
      socketPath,
    });
    if (!started) {
      throw new CorralError(
        'ENGINE_ERROR',
        `Could not start the Podman service for ${runtimePath} on ${socketPath}.`,
        `Try it by hand: podman --runtime ${runtimePath} system service --time=0 unix://${socketPath}`,
      );
    }
    return { socketPath };
  })();
  services.set(socketPath, p);
  p.catch(() => services.delete(socketPath));
  return p;
}
