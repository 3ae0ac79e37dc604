import { CorralError } from '../errors.js';
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
import type {
  ContainerEngine,
  EngineKind,
  EngineReconnect,
  KubeSettingsInput,
  LocalEngineKind,
} from './types.js';

export { DEFAULT_ISOLATION, ISOLATION_RANK, ISOLATIONS, type Isolation } from './isolation.js';
export type { KubeSettings } from './kubernetes/client.js';
export { remoteIsolationRefused } from './remote/limits.js';
export { formatSshUrl, isSshUrl, parseSshUrl, type SshTarget } from './remote/url.js';
export { runtimeArgs, runtimeDef } from './runtimes.js';
export type * from './types.js';

/** The host as a container sees it (Podman adds this name itself; Docker needs `host-gateway`). */
export function hostAlias(engine: EngineKind): string {
  // A pod gets both names (hostAliases) for the node it runs on.
  return engine === 'docker' ? 'host.docker.internal' : 'host.containers.internal';
}

function make(kind: EngineKind, c: Candidate): ContainerEngine {
  return kind === 'podman'
    ? new PodmanEngine('podman', c.endpoint, c.transport)
    : new DockerApiEngine('docker', c.endpoint, c.transport);
}

/**
 * Find a running engine: --engine/CORRAL_ENGINE, DOCKER_HOST, CONTAINER_HOST, rootless Podman, rootful Podman,
 * Docker. If Podman is installed but its API service is not running, start it.
 */
export async function connectEngine(
  requested?: string,
  d: DetectEnv = defaultDetectEnv(),
  opts: {
    kubernetes?: KubeSettingsInput;
    remoteKind?: LocalEngineKind | undefined;
    /** Where `requested` came from, for messages (default `--engine`). */
    requestedBy?: string | undefined;
  } = {},
): Promise<ContainerEngine> {
  if ((requested ?? d.env.CORRAL_ENGINE) === 'kubernetes') {
    const { connectKubernetes } = await import('./kubernetes/index.js');
    const k = opts.kubernetes ?? {};
    const nodeFolders = k.node_folders ?? !k.storage_class;
    if (!nodeFolders && k.workspace === 'hostPath') {
      throw new CorralError(
        'CONFIG_INVALID',
        'kubernetes.workspace: hostPath mounts a folder of the node, and kubernetes.node_folders is false.',
        'Use kubernetes.workspace: upload (or git), or node_folders: true on a cluster on this machine.',
      );
    }
    return connectKubernetes(
      {
        namespace: k.namespace ?? 'corral',
        ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}),
        workspace: k.workspace ?? (nodeFolders ? 'hostPath' : 'upload'),
        nodeFolders,
        ...(k.context ? { context: k.context } : {}),
        ...(k.storage_class ? { storageClass: k.storage_class } : {}),
        ...(k.registry ? { registry: k.registry } : {}),
        ...(k.pull_secret ? { pullSecret: k.pull_secret } : {}),
      },
      // Images are built by the local engine, found as usual (CORRAL_BUILD_ENGINE picks one).
      () => connectEngine(d.env.CORRAL_BUILD_ENGINE, { ...d, env: { ...d.env, CORRAL_ENGINE: undefined } }),
    );
  }
  const list = candidates(d, requested, opts.requestedBy);
  // In order: an SSH address is taken when reached (it cannot be probed like a socket).
  for (const c of list) {
    if (c.ssh) {
      const { connectRemote } = await import('./remote/index.js');
      // Images are built here by the local engine of the remote one's kind, then copied over.
      const env = { ...d.env, CORRAL_ENGINE: undefined, DOCKER_HOST: undefined, CONTAINER_HOST: undefined };
      const ssh = c.ssh;
      return connectRemote(ssh.url, { kind: ssh.kind ?? opts.remoteKind, env: d.env }, (kind) =>
        connectEngine(d.env.CORRAL_BUILD_ENGINE ?? kind, { ...d, env }),
      );
    }
    const kind = await probe(c.transport);
    if (kind) return make(c.kind ?? kind, c);
  }
  for (const c of list) {
    if (c.start && (await startPodmanService(c.start))) return make('podman', c);
  }
  throw noEngineError(list);
}

/**
 * Connect, in another corral process (a detached run's bridge, the daemon), to the engine a run
 * used: its endpoint names a local or remote engine; a Kubernetes engine needs its `reconnect`.
 */
export function reconnectEngine(endpoint: string, how?: EngineReconnect): Promise<ContainerEngine> {
  return how?.kubernetes
    ? connectEngine('kubernetes', undefined, { kubernetes: how.kubernetes })
    : connectEngine(endpoint);
}
