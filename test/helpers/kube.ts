/**
 * The Kubernetes tests run against the cluster `scripts/kube-up` starts (KUBECONFIG set to what it
 * prints). Without one they skip, printing why, so the rest of the suite runs on any machine.
 */
import { existsSync } from 'node:fs';
import { connectEngine } from '../../src/engine/index.js';
import type { KubernetesEngine } from '../../src/engine/kubernetes/index.js';

export const KUBE_NAMESPACE = 'corral-test';

async function reason(): Promise<string | undefined> {
  const cfg = process.env.KUBECONFIG;
  if (!cfg) return 'KUBECONFIG is not set (run scripts/kube-up and export what it prints)';
  if (!existsSync(cfg)) return `KUBECONFIG ${cfg} does not exist`;
  try {
    await (await kubeEngine()).ping();
    return undefined;
  } catch (e) {
    return `the cluster does not answer: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function kubeEngine(): Promise<KubernetesEngine> {
  return connectEngine('kubernetes', undefined, {
    kubernetes: { namespace: KUBE_NAMESPACE },
  }) as Promise<KubernetesEngine>;
}

export const KUBE_SKIP = await reason();
if (KUBE_SKIP) console.warn(`[skip] Kubernetes tests: ${KUBE_SKIP}`);

/** Config for a corral run on the test cluster. */
export const kubeConfigYaml = `engine: kubernetes\nkubernetes:\n  namespace: ${KUBE_NAMESPACE}\nauto_remove: true\n`;

/** The storage class the test provisioner serves (the test cluster has no provisioner of its own). */
export const TEST_STORAGE_CLASS = 'corral-test';

/** Config for runs where no pod may use a node folder (`kubernetes.node_folders: false`). */
export const noNodeFoldersYaml = kubeConfigYaml.replace(
  'kubernetes:\n',
  `kubernetes:\n  node_folders: false\n  storage_class: ${TEST_STORAGE_CLASS}\n`,
);

/**
 * A stand-in for a cloud cluster's volume provisioner: every claim of TEST_STORAGE_CLASS gets a
 * PersistentVolume made for it (a folder on the node, which only the volume names: the pods see a
 * claim). What it made goes at `stop`.
 */
export async function startTestProvisioner(): Promise<{ stop: () => Promise<void> }> {
  const { mkdir, chown, rm } = await import('node:fs/promises');
  const k = await kubeEngine();
  const root = '/var/lib/corral-test-pv';
  await k.c.kc
    .makeApiClient(k.c.lib.StorageV1Api)
    .createStorageClass({
      body: {
        metadata: { name: TEST_STORAGE_CLASS },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'Immediate',
      },
    })
    .catch(() => undefined);
  const made = new Set<string>();
  let stopped = false;
  const tick = async () => {
    const claims = await k.c.core.listNamespacedPersistentVolumeClaim({ namespace: KUBE_NAMESPACE });
    for (const pvc of claims.items) {
      const name = `corral-test-${pvc.metadata!.uid!.slice(0, 18)}`;
      if (pvc.spec?.storageClassName !== TEST_STORAGE_CLASS || pvc.spec.volumeName || made.has(name))
        continue;
      made.add(name);
      const dir = `${root}/${name}`;
      await mkdir(dir, { recursive: true, mode: 0o770 });
      await chown(dir, 1000, 1000);
      await k.c.core
        .createPersistentVolume({
          body: {
            metadata: { name },
            spec: {
              storageClassName: TEST_STORAGE_CLASS,
              capacity: { storage: pvc.spec.resources?.requests?.storage ?? '1Gi' },
              accessModes: ['ReadWriteOnce'],
              persistentVolumeReclaimPolicy: 'Retain',
              hostPath: { path: dir },
              claimRef: { namespace: KUBE_NAMESPACE, name: pvc.metadata!.name!, uid: pvc.metadata!.uid! },
            },
          },
        })
        .catch(() => undefined);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      // The claims of the class too: left bound to a removed volume, they would be Lost next time.
      const claims = await k.c.core.listNamespacedPersistentVolumeClaim({ namespace: KUBE_NAMESPACE });
      for (const pvc of claims.items.filter((c) => c.spec?.storageClassName === TEST_STORAGE_CLASS)) {
        await k.c.core
          .deleteNamespacedPersistentVolumeClaim({ name: pvc.metadata!.name!, namespace: KUBE_NAMESPACE })
          .catch(() => undefined);
      }
      for (const name of made) {
        await k.c.core.deletePersistentVolume({ name }).catch(() => undefined);
        await rm(`${root}/${name}`, { recursive: true, force: true });
      }
    },
  };
}
