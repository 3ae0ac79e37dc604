import { describe, expect, it } from 'vitest';
import { BINDS_ANNOTATION } from '../../src/engine/kubernetes/copies.js';
import { LINK_OWNER_LABEL } from '../../src/engine/kubernetes/link.js';
import { podFor } from '../../src/engine/kubernetes/pod.js';
import { rerunnable } from '../../src/engine/kubernetes/pods.js';
import type { ContainerSpec } from '../../src/engine/types.js';

const base: ContainerSpec = {
  name: 'corral-0123456789ab-gateway',
  image: 'corral/gateway:abc',
  cmd: ['node', '/opt/corral/gateway.mjs'],
  env: {},
  labels: { 'io.corral.workspace': '0123456789ab', 'io.corral.role': 'gateway' },
  user: '0:0',
  workdir: '/',
  tty: false,
  openStdin: false,
  mounts: [
    { type: 'bind', source: '/d/conf', target: '/etc/corral', readOnly: true },
    { type: 'bind', source: '/d/sock', target: '/run/corral/sock' },
    { type: 'bind', source: '/d/sock/hosts', target: '/etc/hosts', readOnly: true },
    { type: 'volume', source: 'corral-claude-default-home', target: '/home/agent' },
  ],
  capDrop: ['ALL'],
  noNewPrivileges: true,
};
const ctx = {
  namespace: 'corral',
  pullPolicy: 'Never' as const,
  image: 'localhost/corral/gateway:abc',
  volume: (n: string) => ({ claim: n }),
};

describe('a pod without node folders', () => {
  const pod = podFor(
    { ...base, serveSockets: true },
    { ...ctx, copies: { files: new Set(['/d/sock/hosts']) } },
  );

  it('has no hostPath: binds are in-memory copies, a file by subPath, volumes claims', () => {
    expect(pod.spec!.volumes!.filter((v) => v.hostPath)).toEqual([]);
    expect(pod.spec!.volumes!.find((v) => v.name === 'v0')).toEqual({
      name: 'v0',
      emptyDir: { medium: 'Memory' },
    });
    expect(pod.spec!.volumes!.find((v) => v.name === 'v3')?.persistentVolumeClaim?.claimName).toBe(
      'corral-claude-default-home',
    );
    const mounts = pod.spec!.containers[0]!.volumeMounts!;
    expect(mounts.find((m) => m.mountPath === '/etc/hosts')).toMatchObject({
      subPath: 'hosts',
      readOnly: true,
    });
    expect(JSON.parse(pod.metadata!.annotations![BINDS_ANNOTATION]!)).toEqual({
      v0: '/d/conf',
      v1: '/d/sock',
      v2: '/d/sock/hosts',
    });
  });

  it('waits for its copies first, and serves its writable folder on the link', () => {
    expect(pod.spec!.initContainers![0]!.name).toBe('fill');
    expect(pod.metadata!.labels![LINK_OWNER_LABEL]).toBe('corral-0123456789ab-gateway');
    const link = pod.spec!.containers.find((c) => c.name === 'link')!;
    expect(link.command!.slice(3)).toEqual(['7483', '/run/corral/sock']);
    expect(link.securityContext?.capabilities?.drop).toEqual(['ALL']);
  });

  it("a sandbox with a copy of the served folder gets the link sidecar and the policy's label", () => {
    const sandbox = podFor(
      {
        ...base,
        name: 'corral-0123456789ab-claude',
        mounts: [{ type: 'bind', source: '/d/sock', target: '/run/corral/gw', readOnly: true }],
      },
      {
        ...ctx,
        copies: {
          files: new Set(),
          link: {
            owner: 'corral-0123456789ab-gateway',
            ip: '10.0.0.9',
            image: 'gw:1',
            pullPolicy: 'Never',
            folders: [{ volume: 'v0', local: '/run/corral/gw', remote: '/run/corral/sock' }],
          },
        },
      },
    );
    const side = sandbox.spec!.initContainers!.find((c) => c.name === 'link')!;
    expect(side.restartPolicy).toBe('Always');
    expect(side.command!.slice(3)).toEqual(['10.0.0.9', '7483', '/run/corral/gw=/run/corral/sock']);
    expect(sandbox.metadata!.labels!['link.corral.io/corral-0123456789ab-gateway']).toBe('1');
    expect(sandbox.spec!.containers.map((c) => c.name)).toEqual(['sandbox']);
    // Where corral writes the gateway's next address: the link's alone, never the sandbox's.
    expect(side.volumeMounts!.find((m) => m.name === 'corral-link')?.mountPath).toBe('/corral-link');
    expect(sandbox.spec!.volumes!.find((v) => v.name === 'corral-link')?.emptyDir?.medium).toBe('Memory');
    for (const c of [...sandbox.spec!.containers, ...sandbox.spec!.initContainers!].filter((c) => c !== side))
      expect(c.volumeMounts?.map((m) => m.name) ?? [], c.name).not.toContain('corral-link');
  });

  it('a pod that ended runs again as a new pod of the same name and spec, on no node in particular', () => {
    const ended = {
      ...pod,
      metadata: { ...pod.metadata, uid: 'u-1', resourceVersion: '42', creationTimestamp: new Date() },
      spec: { ...pod.spec!, nodeName: 'node-1' },
      status: { phase: 'Running', podIP: '10.0.0.9' },
    };
    const again = rerunnable(ended);
    expect(again.metadata).toEqual({
      name: pod.metadata!.name,
      namespace: pod.metadata!.namespace,
      labels: pod.metadata!.labels,
      annotations: pod.metadata!.annotations,
    });
    expect(again.status).toBeUndefined();
    expect(again.spec!.nodeName).toBeUndefined();
    expect(again.spec!.containers).toEqual(pod.spec!.containers);
  });
});
