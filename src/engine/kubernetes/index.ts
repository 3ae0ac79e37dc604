/** The front door of the Kubernetes engine: connect to the kubeconfig's cluster, check it answers. */
import { CorralError } from '../../errors.js';
import type { ContainerEngine } from '../types.js';
import { connectCluster, type KubeSettings, statusOf } from './client.js';
import { KubernetesEngine } from './engine.js';

export type { KubeSettings } from './client.js';
export { KubernetesEngine } from './engine.js';

/** containerd of the cluster scripts/kube-up starts on this machine (images are imported there). */
export const LOCAL_CONTAINERD = process.env.CORRAL_KUBE_CONTAINERD ?? '/run/corral-kube/containerd.sock';

export async function connectKubernetes(
  settings: KubeSettings,
  builder: () => Promise<ContainerEngine>,
): Promise<KubernetesEngine> {
  const c = await connectCluster(settings);
  const engine = new KubernetesEngine(c, settings, await builder(), { containerdSocket: LOCAL_CONTAINERD });
  try {
    await engine.ping();
  } catch (e) {
    const status = statusOf(e);
    if (status === 404) return engine; // the namespace is made on first use
    throw new CorralError(
      'ENGINE_NOT_FOUND',
      status === 401 || status === 403
        ? `The Kubernetes API at ${c.server} refused corral's credentials (${status}).`
        : `The Kubernetes API at ${c.server} does not answer: ${(e as Error).message}`,
      'Check KUBECONFIG and kubernetes.context; for the local test cluster run scripts/kube-up.',
      { cause: e },
    );
  }
  return engine;
}
