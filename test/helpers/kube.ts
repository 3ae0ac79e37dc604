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
