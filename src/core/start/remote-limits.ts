/**
 * What a remote engine (`--remote`, `--engine ssh://…`) does not do, refused before anything is
 * created rather than half-done. Published ports work behind the gateway only: there the sandbox's
 * ports are unix sockets in a folder, forwarded here over the SSH connection. A sandbox on the
 * engine's own network (`--network open`) would publish on the remote machine's interfaces.
 * Another isolation level on remote Podman: see remoteIsolationRefused (engine/remote).
 */
import type { Config } from '../../config/index.js';
import { type ContainerEngine, type Isolation, remoteIsolationRefused } from '../../engine/index.js';
import { CorralError } from '../../errors.js';

export function checkRemoteSupport(
  engine: ContainerEngine,
  config: Pick<Config, 'ports' | 'network'>,
  opts: { ports?: string[] | undefined; network?: Config['network'] | undefined },
  isolation?: Isolation,
): void {
  if (!engine.remote) return;
  const refused = remoteIsolationRefused(engine, isolation);
  if (refused) throw refused;
  const ports = [...(config.ports ?? []).map(String), ...(opts.ports ?? [])];
  const network = opts.network ?? config.network;
  if (ports.length && network !== 'gateway') {
    throw new CorralError(
      'UNSUPPORTED',
      `Published ports (${ports.join(', ')}) on the remote engine ${engine.remote} need the gateway network (this run has --network ${network}): they would open on that machine, not this one.`,
      'Run with the default network (gateway): the ports are then forwarded here over SSH.',
    );
  }
}
