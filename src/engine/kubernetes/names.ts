/**
 * Kubernetes names and labels are stricter than an engine's: DNS-1123 names (lowercase, ≤ 63),
 * label values ≤ 63 of [A-Za-z0-9._-]. corral's names already fit; anything else is mapped here
 * and the original kept in an annotation, so `list` still shows corral's labels unchanged.
 */
export const CONTAINER = 'sandbox';
export const LABELS_ANNOTATION = 'corral.io/labels';
export const NAME_ANNOTATION = 'corral.io/name';
export const NETWORK_LABEL_PREFIX = 'net.corral.io/';
/** Pods on the engine's `none` network: a deny-all policy selects them. */
export const NO_NETWORK_LABEL = 'net.corral.io/none';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'corral' };

export function objectName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (s || 'corral').slice(0, 63).replace(/-+$/, '');
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The labels Kubernetes accepts as they are (the rest live only in the annotation). */
export function kubeLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (v.length <= 63 && LABEL_VALUE.test(v) && /^[a-z0-9.]+\/?[A-Za-z0-9._-]{1,63}$/.test(k)) out[k] = v;
  }
  return out;
}

export function networkLabel(network: string): string {
  return `${NETWORK_LABEL_PREFIX}${objectName(network)}`;
}

/** An engine label filter (`key` or `key=value`) as a label selector term. */
export function selector(filters: string[]): string {
  return filters.join(',');
}
