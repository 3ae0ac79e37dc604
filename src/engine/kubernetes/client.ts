/** The cluster connection: the user's kubeconfig (KUBECONFIG or ~/.kube/config) and a context. */
import { delimiter } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { CorralError } from '../../errors.js';

export interface KubeSettings {
  context?: string;
  namespace: string;
  storageClass?: string;
  registry?: string;
  workspace: 'hostPath' | 'upload' | 'git';
  /**
   * Pods may use folders of the node (hostPath): the cluster is this machine. False: none do
   * (copies.ts), and volumes are claims (of `storageClass`, or the cluster's default class).
   */
  nodeFolders: boolean;
  /** A `kubernetes.io/dockerconfigjson` Secret in the namespace every pod pulls with (a private registry). */
  pullSecret?: string;
  /** The kubeconfig file(s), `:`-separated as in KUBECONFIG; default KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
}

export interface Clients {
  lib: typeof k8s;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  net: k8s.NetworkingV1Api;
  /** Where the API server is, for messages. */
  server: string;
  /** The context in use, and the kubeconfig it came from: another process connects the same way. */
  context: string;
  kubeconfig?: string;
}

export async function connectCluster(settings: KubeSettings): Promise<Clients> {
  // Loaded on first use: the client library costs ~150 ms to import, and local engines never need it.
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  // Read as the client library reads KUBECONFIG, from the given list: a detached run's bridge
  // process connects with what the run used, whatever its own environment says.
  const kubeconfig = settings.kubeconfig ?? process.env.KUBECONFIG;
  try {
    if (settings.kubeconfig) {
      const [first, ...rest] = settings.kubeconfig.split(delimiter).filter(Boolean);
      kc.loadFromFile(first!);
      for (const f of rest) {
        const more = new lib.KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more);
      }
    } else kc.loadFromDefault();
  } catch (e) {
    throw new CorralError('ENGINE_NOT_FOUND', `Cannot read the kubeconfig: ${(e as Error).message}`);
  }
  if (settings.context) {
    if (!kc.getContexts().some((c) => c.name === settings.context)) {
      throw new CorralError(
        'ENGINE_NOT_FOUND',
        `The kubeconfig has no context "${settings.context}" (kubernetes.context).`,
        `Contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }.`,
      );
    }
    kc.setCurrentContext(settings.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new CorralError(
      'ENGINE_NOT_FOUND',
      'No Kubernetes cluster is configured (no current context in the kubeconfig).',
      'Set KUBECONFIG (scripts/kube-up prints one for the local test cluster) or kubernetes.context.',
    );
  }
  return {
    lib,
    kc,
    core: kc.makeApiClient(lib.CoreV1Api),
    net: kc.makeApiClient(lib.NetworkingV1Api),
    server: cluster.server,
    context: kc.getCurrentContext(),
    ...(kubeconfig ? { kubeconfig } : {}),
  };
}

/** The API's HTTP status of a failed call (404 missing, 409 conflict), if it has one. */
export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export async function ignore404<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}
