/** Reading Pods back as the engine-neutral summaries and details. */
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerDetails, ContainerSummary } from '../types.js';
import { CONTAINER, LABELS_ANNOTATION, NAME_ANNOTATION } from './names.js';

export function podState(pod: V1Pod): { state: string; running: boolean; exitCode: number; status: string } {
  const c = pod.status?.containerStatuses?.find((s) => s.name === CONTAINER);
  const term = c?.state?.terminated;
  if (pod.metadata?.deletionTimestamp && !term)
    return { state: 'exited', running: false, exitCode: 137, status: 'Terminating' };
  if (term)
    return { state: 'exited', running: false, exitCode: term.exitCode, status: `Exited (${term.exitCode})` };
  if (c?.state?.running)
    return { state: 'running', running: true, exitCode: 0, status: `Up (${pod.status?.podIP ?? 'no IP'})` };
  const waiting = c?.state?.waiting?.reason ?? pod.status?.phase ?? 'Pending';
  return { state: 'created', running: false, exitCode: 0, status: waiting };
}

/** How long a pod may wait for its claims to be bound before that is a failure. */
const CLAIM_WAIT_MS = 120_000;

/** A reason the pod will never run (an image the node lacks, a bad spec), if it has one. */
export function stuckReason(pod: V1Pod): string | undefined {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of pod.status?.initContainerStatuses ?? []) {
    const t = s.state?.terminated;
    if (t && t.exitCode !== 0)
      return `init step ${s.name} failed (${t.exitCode}): ${t.message ?? t.reason ?? ''}`.trim();
  }
  for (const s of all) {
    const w = s.state?.waiting;
    if (
      w?.reason &&
      /ErrImageNeverPull|ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError|RunContainerError/.test(
        w.reason,
      )
    ) {
      return `${w.reason}: ${w.message ?? ''}`.trim();
    }
  }
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
  );
  if (!unschedulable) return undefined;
  // A claim being provisioned (a storage class binds it once the pod asks, or a moment later): a
  // wait, not a failure, unless it lasts.
  const age = Date.now() - new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime();
  if (/PersistentVolumeClaim/.test(unschedulable.message ?? '') && age < CLAIM_WAIT_MS) return undefined;
  return `Unschedulable: ${unschedulable.message ?? ''}`;
}

export function labelsOf(pod: V1Pod): Record<string, string> {
  const a = pod.metadata?.annotations?.[LABELS_ANNOTATION];
  return a ? (JSON.parse(a) as Record<string, string>) : { ...(pod.metadata?.labels ?? {}) };
}

export function toSummary(pod: V1Pod): ContainerSummary {
  const s = podState(pod);
  const c = pod.spec?.containers.find((x) => x.name === CONTAINER) ?? pod.spec?.containers[0];
  return {
    // The UID: unique in a 12-character prefix, as corral shortens ids (pod names are not).
    id: pod.metadata?.uid ?? pod.metadata?.name ?? '',
    name: pod.metadata?.annotations?.[NAME_ANNOTATION] ?? pod.metadata?.name ?? '',
    image: c?.image ?? '',
    state: s.state,
    status: s.status,
    labels: labelsOf(pod),
    created: Math.floor(new Date(pod.metadata?.creationTimestamp ?? 0).getTime() / 1000),
    ports: [],
  };
}

export function toDetails(pod: V1Pod): ContainerDetails {
  const s = podState(pod);
  const c = pod.spec?.containers.find((x) => x.name === CONTAINER);
  const sc = c?.securityContext;
  return {
    ...toSummary(pod),
    running: s.running,
    exitCode: s.exitCode,
    user: sc?.runAsUser !== undefined ? `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}` : '',
    tty: c?.tty ?? false,
    networks: pod.status?.podIP ? { pod: { ip: pod.status.podIP } } : {},
  };
}

/** A pod that ended, as a new pod of the same name and spec (Kubernetes runs a pod once). */
export function rerunnable(old: V1Pod): V1Pod {
  const { nodeName: _bound, ...spec } = old.spec!;
  const m = old.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name!,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
    spec,
  };
}
