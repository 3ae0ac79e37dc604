/**
 * How an engine's pods run an image: under the name the cluster knows it by (imported, or pushed
 * to `kubernetes.registry`), pulled how and with which secret, and where `host.containers.internal`
 * is (the node's address: the cluster runs on this machine when that name is meant to work).
 */
import type { ContainerEngine } from '../types.js';
import type { Clients, KubeSettings } from './client.js';
import { clusterImage, type ImportTarget } from './images.js';
import type { PodContext } from './pod.js';

export class PodContexts {
  private hostIp?: Promise<string | undefined>;

  constructor(
    private readonly c: Clients,
    private readonly settings: KubeSettings,
    private readonly builder: ContainerEngine,
    private readonly importTarget: ImportTarget,
  ) {}

  async of(image: string): Promise<Omit<PodContext, 'volume'>> {
    const [name, hostIp] = await Promise.all([
      clusterImage(this.builder, image, this.settings.registry, this.importTarget),
      this.nodeIp(),
    ]);
    return {
      namespace: this.settings.namespace,
      pullPolicy: this.settings.registry ? 'IfNotPresent' : 'Never',
      image: name,
      ...(this.settings.pullSecret ? { pullSecret: this.settings.pullSecret } : {}),
      ...(hostIp ? { hostIp } : {}),
    };
  }

  /** Asked once per engine: the node's InternalIP. */
  private nodeIp(): Promise<string | undefined> {
    this.hostIp ??= this.c.core.listNode().then(
      (l) => l.items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
      () => undefined,
    );
    return this.hostIp;
  }
}
