import {
  type Candidate,
  candidates,
  type DetectEnv,
  defaultDetectEnv,
  noEngineError,
  probe,
  startPodmanService,
} from './detect.js';
import { DockerApiEngine } from './docker-api.js';
import { PodmanEngine } from './podman.js';
import type { ContainerEngine, EngineKind } from './types.js';

export { DEFAULT_ISOLATION, ISOLATION_RANK, ISOLATIONS, type Isolation } from './isolation.js';
export { runtimeArgs, runtimeDef } from './runtimes.js';
export type * from './types.js';

/** The host as a container sees it (Podman adds this name itself; Docker needs `host-gateway`). */
export function hostAlias(engine: EngineKind): string {
  return engine === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
}

function make(kind: EngineKind, c: Candidate): ContainerEngine {
  return kind === 'podman'
    ? new PodmanEngine('podman', c.endpoint, c.transport)
    : new DockerApiEngine('docker', c.endpoint, c.transport);
}

/**
 * Find a running engine: --engine/CORRAL_ENGINE, DOCKER_HOST, rootless Podman, rootful Podman,
 * Docker. If Podman is installed but its API service is not running, start it.
 */
export async function connectEngine(
  requested?: string,
  d: DetectEnv = defaultDetectEnv(),
): Promise<ContainerEngine> {
  const list = candidates(d, requested);
  for (const c of list) {
    const kind = await probe(c.transport);
    if (kind) return make(c.kind ?? kind, c);
  }
  for (const c of list) {
    if (c.start && (await startPodmanService(c.start))) return make('podman', c);
  }
  throw noEngineError(list);
}
