/**
 * Volumes and networks on a cluster. A named volume is a PersistentVolumeClaim when
 * `kubernetes.storage_class` is set, else a folder on the node (a single-node cluster on this
 * machine: hostPath, no provisioner needed). A network is a NetworkPolicy: its member pods (a
 * label per network) reach each other, and only an ordinary (not internal) network lets them out.
 * Pods on the `none` network are selected by a deny-all policy.
 */
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { type Clients, ignore404, statusOf } from './client.js';
import type { PodLife } from './lifecycle.js';

/**
 * The uid that owns a node-folder volume: corral's images run their agent as 1000
 * (images/recipes.ts SANDBOX_UID, a floor above the engine, which may not import it).
 */
const VOLUME_OWNER = 1000;

import { MANAGED_BY, NO_NETWORK_LABEL, networkLabel, objectName } from './names.js';

/** Where hostPath volumes live on the node (the cluster runs on this machine in that mode). */
export const VOLUME_ROOT = process.env.CORRAL_KUBE_VOLUMES ?? '/var/lib/corral/kube-volumes';
/** A node-folder volume's own record of its name and labels (not the contents a pod sees). */
export const LABELS_FILE = '.corral-labels.json';

export class Resources {
  constructor(
    private readonly c: Clients,
    private readonly namespace: string,
    private readonly storageClass: string | undefined,
    /** Volumes are claims (no node folders); else folders on the (single) node. */
    private readonly claims: boolean = storageClass !== undefined,
  ) {}

  volumePlace(name: string): { claim: string } | { hostPath: string } {
    return this.claims ? { claim: objectName(name) } : { hostPath: join(VOLUME_ROOT, objectName(name)) };
  }

  async volumeExists(name: string): Promise<boolean> {
    if (this.claims) {
      return Boolean(
        await ignore404(() =>
          this.c.core.readNamespacedPersistentVolumeClaim({
            name: objectName(name),
            namespace: this.namespace,
          }),
        ),
      );
    }
    return readFile(join(VOLUME_ROOT, objectName(name), LABELS_FILE)).then(
      () => true,
      () => false,
    );
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    if (this.claims) {
      await this.c.core
        .createNamespacedPersistentVolumeClaim({
          namespace: this.namespace,
          body: {
            metadata: {
              name: objectName(name),
              labels: { ...MANAGED_BY },
              annotations: { 'corral.io/labels': JSON.stringify(labels) },
            },
            spec: {
              // None named: the cluster's default class.
              ...(this.storageClass ? { storageClassName: this.storageClass } : {}),
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '5Gi' } },
            },
          },
        })
        .catch((e) => {
          if (statusOf(e) !== 409) throw e;
        });
      return;
    }
    const dir = join(VOLUME_ROOT, objectName(name));
    await mkdir(dir, { recursive: true });
    // The sandbox user owns its volumes, as it would a fresh engine volume its image made for it.
    await chown(dir, VOLUME_OWNER, VOLUME_OWNER).catch(() => undefined);
    await writeFile(join(dir, LABELS_FILE), JSON.stringify({ name, labels }));
  }

  async removeVolume(name: string): Promise<void> {
    if (this.claims) {
      await ignore404(() =>
        this.c.core.deleteNamespacedPersistentVolumeClaim({
          name: objectName(name),
          namespace: this.namespace,
        }),
      );
      return;
    }
    await rm(join(VOLUME_ROOT, objectName(name)), { recursive: true, force: true });
  }

  async listVolumes(filters: string[]): Promise<{ name: string; labels: Record<string, string> }[]> {
    let all: { name: string; labels: Record<string, string> }[];
    if (this.claims) {
      const list = await this.c.core.listNamespacedPersistentVolumeClaim({
        namespace: this.namespace,
        labelSelector: 'app.kubernetes.io/managed-by=corral',
      });
      all = list.items.map((p) => ({
        name: p.metadata?.name ?? '',
        labels: JSON.parse(p.metadata?.annotations?.['corral.io/labels'] ?? '{}') as Record<string, string>,
      }));
    } else {
      const dirs = await readdir(VOLUME_ROOT).catch(() => [] as string[]);
      all = (
        await Promise.all(
          dirs.map((d) =>
            readFile(join(VOLUME_ROOT, d, LABELS_FILE), 'utf8').then(
              (t) => JSON.parse(t) as { name: string; labels: Record<string, string> },
              () => undefined,
            ),
          ),
        )
      ).filter((v) => v !== undefined);
    }
    return all.filter((v) => matches(v.labels, filters));
  }

  async networkExists(name: string): Promise<boolean> {
    return Boolean(
      await ignore404(() =>
        this.c.net.readNamespacedNetworkPolicy({ name: policyName(name), namespace: this.namespace }),
      ),
    );
  }

  async createNetwork(
    name: string,
    opts: { internal?: boolean; labels: Record<string, string> },
  ): Promise<void> {
    const members = { matchLabels: { [networkLabel(name)]: '1' } };
    await this.apply({
      metadata: {
        name: policyName(name),
        labels: { ...MANAGED_BY },
        annotations: { 'corral.io/labels': JSON.stringify(opts.labels), 'corral.io/network': name },
      },
      spec: {
        podSelector: members,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ _from: [{ podSelector: members }] }],
        egress: [{ to: [{ podSelector: members }] }, ...(opts.internal ? [] : [{}])],
      },
    });
  }

  /** The policy behind `network: none`: selected pods have no traffic in or out at all. */
  async ensureNoNetworkPolicy(): Promise<void> {
    if (await this.networkExists('none')) return;
    await this.apply({
      metadata: { name: policyName('none'), labels: { ...MANAGED_BY } },
      spec: { podSelector: { matchLabels: { [NO_NETWORK_LABEL]: '1' } }, policyTypes: ['Ingress', 'Egress'] },
    });
  }

  async removeNetwork(name: string): Promise<void> {
    await ignore404(() =>
      this.c.net.deleteNamespacedNetworkPolicy({ name: policyName(name), namespace: this.namespace }),
    );
  }

  async listNetworks(filters: string[]): Promise<{ name: string; labels: Record<string, string> }[]> {
    const list = await this.c.net.listNamespacedNetworkPolicy({
      namespace: this.namespace,
      labelSelector: 'app.kubernetes.io/managed-by=corral',
    });
    return list.items
      .filter((p) => p.metadata?.annotations?.['corral.io/network'])
      .map((p) => ({
        name: p.metadata!.annotations!['corral.io/network']!,
        labels: JSON.parse(p.metadata?.annotations?.['corral.io/labels'] ?? '{}') as Record<string, string>,
      }))
      .filter((n) => matches(n.labels, filters));
  }

  private async apply(body: V1NetworkPolicy): Promise<void> {
    await this.c.net.createNamespacedNetworkPolicy({ namespace: this.namespace, body }).catch((e) => {
      if (statusOf(e) !== 409) throw e;
    });
  }
}

export function policyName(network: string): string {
  return objectName(`corral-net-${network}`);
}

/** Engine label filters (`key` or `key=value`) against a label map. */
export function matches(labels: Record<string, string>, filters: string[]): boolean {
  return filters.every((f) => {
    const i = f.indexOf('=');
    return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
  });
}

/** Joining a network is carrying its label (a pending pod gets it before it is created). */
export async function setNetworkLabel(
  c: Clients,
  ns: string,
  life: Pick<PodLife, 'pendingPod'>,
  network: string,
  container: string,
  value: string | null,
): Promise<void> {
  const id = objectName(container);
  const pending = life.pendingPod(id);
  if (pending) {
    const labels = pending.metadata!.labels!;
    if (value) labels[networkLabel(network)] = value;
    else delete labels[networkLabel(network)];
    return;
  }
  await ignore404(() =>
    c.core.patchNamespacedPod(
      { name: id, namespace: ns, body: { metadata: { labels: { [networkLabel(network)]: value } } } },
      c.lib.setHeaderOptions('Content-Type', c.lib.PatchStrategy.MergePatch),
    ),
  );
}
