/**
 * A ContainerSpec rendered as a Pod: the same sandbox the local engines run, with the hardening
 * expressed in the Pod's securityContext (non-root uid, every capability dropped, no privilege
 * escalation, seccomp RuntimeDefault, read-only root where the spec asks), its limits as resources,
 * and its labels. Pure: unit-tested without a cluster.
 */
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ContainerSpec } from '../types.js';
import { BINDS_ANNOTATION, copyMount, fillContainer } from './copies.js';
import {
  LINK_OWNER_LABEL,
  type LinkTarget,
  linkClient,
  linkedLabels,
  linkServer,
  linkVolume,
} from './link.js';
import {
  CONTAINER,
  kubeLabels,
  LABELS_ANNOTATION,
  MANAGED_BY,
  NAME_ANNOTATION,
  NO_NETWORK_LABEL,
  networkLabel,
  objectName,
} from './names.js';

export interface PodContext {
  namespace: string;
  /** `Never` for a cluster that gets images imported (the local test cluster), else `IfNotPresent`. */
  pullPolicy: 'Never' | 'IfNotPresent';
  /** The image reference as the cluster knows it. */
  image: string;
  /** The Secret the kubelet pulls `image` with (kubernetes.pull_secret). */
  pullSecret?: string;
  /** The address `host.containers.internal` names (the node, on a cluster on the user's machine). */
  hostIp?: string;
  /** Where a named volume lives: a PersistentVolumeClaim, or a folder on the (single) node. */
  volume: (name: string) => { claim: string } | { hostPath: string };
  /** Volumes made for this pod just now: seeded from the image first, as engines do for a new volume. */
  freshVolumes?: Set<string>;
  /**
   * An address every pod reaches unless a policy stops it (the API server). NetworkPolicy is applied
   * after a pod gets its address, so a sandbox without a network waits until this is blocked.
   */
  canary?: { host: string; port: number };
  /**
   * No node folders: bind mounts are copies (copies.ts). `files`: the sources that are files;
   * `link`: the pod serving the sockets of folders this pod has copies of (link.ts).
   */
  copies?: { files: Set<string>; link?: LinkTarget };
}

export function podFor(spec: ContainerSpec, ctx: PodContext): V1Pod {
  const [uid, gid] = spec.user.split(':').map((n) => Number(n));
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const seeds: V1Container[] = [];
  const binds: Record<string, string> = {};
  spec.mounts.forEach((m, i) => {
    const name = `v${i}`;
    if (m.type === 'bind' && ctx.copies) {
      const copy = copyMount(m, name, ctx.copies.files.has(m.source));
      volumes.push(copy.volume);
      mounts.push(copy.mount);
      binds[name] = m.source;
      return;
    }
    if (m.type === 'bind') {
      volumes.push({ name, hostPath: { path: m.source } });
    } else {
      const where = ctx.volume(m.source);
      volumes.push(
        'claim' in where
          ? { name, persistentVolumeClaim: { claimName: where.claim } }
          : { name, hostPath: { path: where.hostPath, type: 'DirectoryOrCreate' } },
      );
      if (ctx.freshVolumes?.has(m.source))
        seeds.push(seedContainer(name, m.target, ctx, security(spec, uid, gid)));
    }
    mounts.push({ name, mountPath: m.target, readOnly: m.readOnly ?? false });
  });
  const networkLabels: Record<string, string> =
    spec.network === 'none'
      ? { [NO_NETWORK_LABEL]: '1' }
      : spec.network
        ? { [networkLabel(spec.network)]: '1' }
        : {};
  const hostAliases = hostAliasesFor(spec, ctx.hostIp);
  const gate =
    spec.network === 'none' && ctx.canary
      ? isolationGate(ctx, ctx.canary, security(spec, uid, gid))
      : undefined;
  const container: V1Container = {
    name: CONTAINER,
    image: ctx.image,
    imagePullPolicy: ctx.pullPolicy,
    ...(spec.entrypoint ? { command: spec.entrypoint, args: spec.cmd } : { args: spec.cmd }),
    env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    ...(spec.workdir ? { workingDir: spec.workdir } : {}),
    tty: spec.tty,
    stdin: spec.openStdin,
    stdinOnce: spec.openStdin && (spec.stdinOnce ?? false),
    securityContext: security(spec, uid, gid),
    // A limit without a request makes the request the limit: 8 GiB each would fit two sandboxes on
    // a node. The request is what a sandbox needs to be scheduled, the limit what it may use.
    ...(spec.memoryBytes
      ? {
          resources: {
            limits: { memory: String(spec.memoryBytes) },
            requests: { memory: String(Math.min(spec.memoryBytes, 64 * 2 ** 20)), cpu: '10m' },
          },
        }
      : {}),
    volumeMounts: mounts,
  };
  const sec = security(spec, uid, gid);
  const fill = Object.keys(binds).length ? fillContainer(binds, ctx.image, ctx.pullPolicy, sec) : undefined;
  const link = ctx.copies?.link;
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: objectName(spec.name),
      namespace: ctx.namespace,
      labels: {
        ...kubeLabels(spec.labels),
        ...MANAGED_BY,
        ...networkLabels,
        ...(link ? linkedLabels(link) : {}),
        ...(spec.serveSockets && fill ? { [LINK_OWNER_LABEL]: objectName(spec.name) } : {}),
      },
      annotations: {
        [LABELS_ANNOTATION]: JSON.stringify(spec.labels),
        [NAME_ANNOTATION]: spec.name,
        ...(fill ? { [BINDS_ANNOTATION]: JSON.stringify(binds) } : {}),
      },
    },
    spec: {
      restartPolicy: 'Never',
      // No Kubernetes credentials inside a sandbox, and no service environment variables.
      automountServiceAccountToken: false,
      ...(ctx.pullSecret ? { imagePullSecrets: [{ name: ctx.pullSecret }] } : {}),
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      securityContext: {
        seccompProfile: { type: 'RuntimeDefault' },
        ...(spec.sysctls
          ? { sysctls: Object.entries(spec.sysctls).map(([name, value]) => ({ name, value })) }
          : {}),
      },
      ...(hostAliases.length ? { hostAliases } : {}),
      ...(seeds.length || gate || fill
        ? {
            initContainers: [
              ...(fill ? [fill.container] : []),
              ...(gate ? [gate] : []),
              ...seeds,
              ...(link ? [linkClient(link, sec)] : []),
            ],
          }
        : {}),
      containers: [container],
      volumes: [...volumes, ...(fill ? [fill.volume] : []), ...(link ? [linkVolume()] : [])],
    },
  };
  if (spec.serveSockets && fill) {
    const served = mounts.filter((m) => !m.readOnly && !m.subPath && binds[m.name]).map((m) => m.mountPath);
    pod.spec!.containers.push(linkServer(pod, container, served));
  }
  return pod;
}

function security(spec: ContainerSpec, uid: number | undefined, gid: number | undefined) {
  const drop = spec.capDrop.map(capName);
  return {
    ...(uid !== undefined && !Number.isNaN(uid) ? { runAsUser: uid, runAsNonRoot: uid !== 0 } : {}),
    ...(gid !== undefined && !Number.isNaN(gid) ? { runAsGroup: gid } : {}),
    allowPrivilegeEscalation: !spec.noNewPrivileges,
    privileged: false,
    capabilities: { drop, ...(spec.capAdd?.length ? { add: spec.capAdd.map(capName) } : {}) },
    seccompProfile: { type: 'RuntimeDefault' },
    readOnlyRootFilesystem: spec.readOnlyRootfs ?? false,
  };
}

/** Engines take `CAP_NET_RAW` or `NET_RAW`; Kubernetes only the latter (and `ALL`). */
function capName(c: string): string {
  return c.toUpperCase().replace(/^CAP_/, '');
}

/**
 * An engine copies the image's files into a new, empty volume mounted over them (a home with its
 * dotfiles); a hostPath or claim starts empty. The same image copies them once, as the sandbox user.
 */
function seedContainer(
  volume: string,
  target: string,
  ctx: PodContext,
  securityContext: ReturnType<typeof security>,
): V1Container {
  return {
    name: `seed-${volume}`,
    image: ctx.image,
    imagePullPolicy: ctx.pullPolicy,
    command: ['/bin/sh', '-c', 'cp -a "$0"/. /corral-seed/ 2>/dev/null; exit 0', target],
    securityContext: { ...securityContext, readOnlyRootFilesystem: false },
    volumeMounts: [{ name: volume, mountPath: '/corral-seed' }],
  };
}

/** Fail closed: the sandbox starts only once its deny-all policy demonstrably drops its traffic. */
function isolationGate(
  ctx: PodContext,
  canary: { host: string; port: number },
  securityContext: ReturnType<typeof security>,
): V1Container {
  const script =
    'end=$(($(date +%s) + 30)); while timeout 1 bash -c "exec 3<>/dev/tcp/$0/$1" 2>/dev/null; do ' +
    '[ "$(date +%s)" -lt "$end" ] || { echo "corral: the pod network policy did not apply in 30 s" >&2; exit 1; }; ' +
    'sleep 0.1; done';
  return {
    name: 'wait-isolated',
    image: ctx.image,
    imagePullPolicy: ctx.pullPolicy,
    command: ['/bin/sh', '-c', script, canary.host, String(canary.port)],
    securityContext: { ...securityContext, readOnlyRootFilesystem: false },
  };
}

function hostAliasesFor(spec: ContainerSpec, hostIp: string | undefined) {
  const out: { ip: string; hostnames: string[] }[] = [];
  if (hostIp) out.push({ ip: hostIp, hostnames: ['host.containers.internal', 'host.docker.internal'] });
  for (const h of spec.extraHosts ?? []) {
    const i = h.lastIndexOf(':');
    const [name, ip] = [h.slice(0, i), h.slice(i + 1)];
    if (ip && ip !== 'host-gateway' && /^[\d.]+$/.test(ip)) out.push({ ip, hostnames: [name] });
  }
  return out;
}
