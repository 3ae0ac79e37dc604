/**
 * What a remote engine (`--remote`, `--engine ssh://…`) does not do yet, refused before anything
 * is created rather than half-done: a published port would open on the remote machine, not on this
 * one, and services talk to the gateway through sockets and name files that live copies there do
 * not carry yet.
 */
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import { CorralError } from '../../errors.js';

export function checkRemoteSupport(
  engine: ContainerEngine,
  config: Pick<Config, 'services'>,
  opts: { ports?: string[] | undefined },
): void {
  if (!engine.remote) return;
  if (opts.ports?.length) {
    throw new CorralError(
      'UNSUPPORTED',
      `Published ports (--port ${opts.ports.join(', ')}) are not supported on the remote engine ${engine.remote}: they would open on that machine, not this one.`,
      `Forward one yourself over SSH instead (ssh -L PORT:…), or run without --remote.`,
    );
  }
  const services = Object.keys(config.services ?? {});
  if (services.length) {
    throw new CorralError(
      'UNSUPPORTED',
      `Services (services: ${services.join(', ')} in the config) are not supported on the remote engine ${engine.remote} yet.`,
      'Run this workspace on a local engine (without --remote), or leave services: out of its config for remote runs.',
    );
  }
}
