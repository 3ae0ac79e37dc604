/**
 * `corral doctor` on `engine: kubernetes`: the API answers, corral may do what it needs in its
 * namespace (RBAC, asked with SelfSubjectAccessReviews), the storage class exists, and NetworkPolicy
 * is enforced, found out by trying: a pod under corral's deny-all policy must fail to reach a
 * port that answers on the node.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { ContainerEngine } from '../engine/index.js';
import type { KubernetesEngine } from '../engine/kubernetes/index.js';
import type { CheckResult } from './checks.js';

const NEEDED: [string, string, string?][] = [
  ['create', 'pods'],
  ['delete', 'pods'],
  ['create', 'pods', 'exec'],
  ['create', 'pods', 'attach'],
  ['get', 'pods', 'log'],
  ['create', 'networkpolicies'],
  ['create', 'persistentvolumeclaims'],
];

export async function kubernetesChecks(e: ContainerEngine, probeImage?: string): Promise<CheckResult[]> {
  const engine = e as KubernetesEngine;
  const out: CheckResult[] = [];
  const authz = engine.c.kc.makeApiClient(engine.c.lib.AuthorizationV1Api);
  const denied: string[] = [];
  for (const [verb, resource, subresource] of NEEDED) {
    const r = await authz.createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: {
            namespace: engine.ns,
            verb,
            resource,
            ...(subresource ? { subresource } : {}),
            ...(resource === 'networkpolicies' ? { group: 'networking.k8s.io' } : {}),
          },
        },
      },
    });
    if (!r.status?.allowed) denied.push(`${verb} ${resource}${subresource ? `/${subresource}` : ''}`);
  }
  out.push(
    denied.length
      ? {
          name: 'kubernetes RBAC',
          status: 'fail',
          detail: `not allowed in namespace ${engine.ns}: ${denied.join(', ')}`,
          fix: 'Ask for a Role granting these in the namespace (kubernetes.namespace).',
        }
      : {
          name: 'kubernetes RBAC',
          status: 'ok',
          detail: `pods, exec, attach, logs, policies and claims in ${engine.ns}`,
        },
  );
  const sc = engine.settings.storageClass;
  if (sc) {
    const storage = engine.c.kc.makeApiClient(engine.c.lib.StorageV1Api);
    const found = await storage.readStorageClass({ name: sc }).then(
      () => true,
      () => false,
    );
    out.push(
      found
        ? { name: 'storage class', status: 'ok', detail: `${sc} (homes on PersistentVolumeClaims)` }
        : {
            name: 'storage class',
            status: 'fail',
            detail: `${sc} does not exist`,
            fix: 'Set kubernetes.storage_class to one of `kubectl get storageclass`.',
          },
    );
  } else {
    out.push({
      name: 'storage class',
      status: 'info',
      detail: 'none set: volumes are folders on the (single) node',
    });
  }
  if (engine.settings.pullSecret) out.push(await pullSecretCheck(engine, engine.settings.pullSecret));
  out.push(
    probeImage
      ? await policyEnforced(engine, probeImage)
      : {
          name: 'network policy',
          status: 'warn',
          detail: 'not tried: no sandbox image built yet',
          fix: 'Run `corral image build claude`, then doctor again.',
        },
  );
  return out;
}

/** A sandbox-like pod on no network tries the node; if it gets through, policies are not enforced. */
async function policyEnforced(engine: KubernetesEngine, image: string): Promise<CheckResult> {
  const nodes = await engine.c.core.listNode();
  const ip = nodes.items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) return { name: 'network policy', status: 'warn', detail: 'no node address to try against' };
  const server = createServer((s) => s.end('reached\n'));
  server.listen(0, ip);
  try {
    await once(server, 'listening');
  } catch {
    return {
      name: 'network policy',
      status: 'warn',
      detail: `not tried: the cluster's node ${ip} is not this machine`,
    };
  }
  const port = (server.address() as { port: number }).port;
  const id = await engine.createContainer({
    name: `corral-doctor-probe-${process.pid}`,
    image,
    entrypoint: ['/bin/bash', '-c'],
    cmd: [`timeout 4 bash -c 'exec 3<>/dev/tcp/${ip}/${port}; head -1 <&3' || echo blocked`],
    env: {},
    labels: { 'io.corral.role': 'doctor' },
    user: '1000:1000',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    network: 'none',
  });
  try {
    try {
      await engine.startContainer(id);
      await engine.wait(id);
    } catch (e) {
      // The pod's isolation gate gives up when its deny-all policy never takes effect.
      return {
        name: 'network policy',
        status: 'fail',
        detail: `a pod under a deny-all NetworkPolicy was not isolated: ${(e as Error).message}`,
        fix: 'Install a network plugin that enforces NetworkPolicy (kube-router, Calico, Cilium).',
      };
    }
    const logs = await engine.logs(id, {});
    const chunks: Buffer[] = [];
    for await (const c of logs) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    return text.includes('reached')
      ? {
          name: 'network policy',
          status: 'fail',
          detail: 'a pod under a deny-all NetworkPolicy reached the node: policies are not enforced',
          fix: 'Install a network plugin that enforces NetworkPolicy (kube-router, Calico, Cilium).',
        }
      : {
          name: 'network policy',
          status: 'ok',
          detail: 'enforced (a deny-all pod could not reach the node)',
        };
  } finally {
    server.close();
    await engine.remove(id);
  }
}

/** kubernetes.pull_secret names a registry login in the namespace (a missing one fails every pull). */
async function pullSecretCheck(engine: KubernetesEngine, name: string): Promise<CheckResult> {
  const secret = await engine.c.core
    .readNamespacedSecret({ name, namespace: engine.ns })
    .catch(() => undefined);
  const fix = `kubectl -n ${engine.ns} create secret docker-registry ${name} --docker-server=REGISTRY --docker-username=… --docker-password=…`;
  if (!secret) {
    return {
      name: 'pull secret',
      status: 'fail',
      detail: `${name} does not exist in namespace ${engine.ns} (or may not be read)`,
      fix,
    };
  }
  if (secret.type !== 'kubernetes.io/dockerconfigjson') {
    return {
      name: 'pull secret',
      status: 'fail',
      detail: `${name} is a ${secret.type ?? 'untyped'} Secret, not kubernetes.io/dockerconfigjson`,
      fix,
    };
  }
  return { name: 'pull secret', status: 'ok', detail: `${name} (every pod pulls with it)` };
}
