import { describe, expect, it } from 'vitest';
import { clusterRef } from '../../src/engine/kubernetes/images.js';
import { objectName } from '../../src/engine/kubernetes/names.js';
import { podFor } from '../../src/engine/kubernetes/pod.js';
import type { ContainerSpec } from '../../src/engine/types.js';

const spec: ContainerSpec = {
  name: 'corral-0123456789ab-claude',
  image: 'corral/claude:abc',
  cmd: ['claude'],
  env: { A: '1' },
  labels: { 'io.corral.workspace': '0123456789ab', 'io.corral.role': 'agent', 'io.corral.path': '/w/x y' },
  user: '1000:1000',
  workdir: '/workspace',
  tty: false,
  openStdin: true,
  mounts: [
    { type: 'bind', source: '/w/x y', target: '/workspace' },
    { type: 'volume', source: 'corral-claude-default-home', target: '/home/agent' },
  ],
  capDrop: ['ALL'],
  noNewPrivileges: true,
  memoryBytes: 1024,
  network: 'none',
  readOnlyRootfs: true,
};

describe('a ContainerSpec as a Pod', () => {
  const pod = podFor(spec, {
    namespace: 'corral',
    pullPolicy: 'Never',
    image: 'localhost/corral/claude:abc',
    hostIp: '10.245.0.1',
    volume: (n) => ({ hostPath: `/v/${n}` }),
    freshVolumes: new Set(['corral-claude-default-home']),
  });
  const c = pod.spec!.containers[0]!;

  it('carries every hardening of the local sandbox', () => {
    expect(c.securityContext).toMatchObject({
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
      readOnlyRootFilesystem: true,
    });
    expect(c.resources?.limits?.memory).toBe('1024');
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(c.imagePullPolicy).toBe('Never');
  });

  it('keeps labels Kubernetes accepts as labels, all of them in the annotation, and the network label', () => {
    expect(pod.metadata!.labels).toMatchObject({
      'io.corral.workspace': '0123456789ab',
      'net.corral.io/none': '1',
    });
    expect(pod.metadata!.labels!['io.corral.path']).toBeUndefined();
    expect(JSON.parse(pod.metadata!.annotations!['corral.io/labels']!)).toEqual(spec.labels);
  });

  it('mounts the workspace and the volume from the node, seeding a new volume from the image', () => {
    expect(pod.spec!.volumes).toEqual([
      { name: 'v0', hostPath: { path: '/w/x y' } },
      { name: 'v1', hostPath: { path: '/v/corral-claude-default-home', type: 'DirectoryOrCreate' } },
    ]);
    expect(pod.spec!.initContainers?.[0]?.command?.at(-1)).toBe('/home/agent');
    expect(pod.spec!.hostAliases?.[0]).toEqual({
      ip: '10.245.0.1',
      hostnames: ['host.containers.internal', 'host.docker.internal'],
    });
  });
});

describe('names', () => {
  it('maps engine names onto DNS-1123 names and image refs onto containerd names', () => {
    expect(objectName('Corral_ws.claude')).toBe('corral-ws-claude');
    expect(objectName('x'.repeat(80))).toHaveLength(63);
    expect(clusterRef('podman', 'corral/claude:1')).toBe('localhost/corral/claude:1');
    expect(clusterRef('docker', 'corral/claude:1')).toBe('docker.io/corral/claude:1');
    expect(clusterRef('podman', 'registry.example/x:1')).toBe('registry.example/x:1');
  });
});
