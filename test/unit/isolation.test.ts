import { describe, expect, it } from 'vitest';
import { createBody } from '../../src/engine/docker-body.js';
import { dockerRuntimeError, runtimeArgs } from '../../src/engine/runtimes.js';
import { gvisorProfile } from '../../src/engine/seccomp.js';
import { CorralError } from '../../src/errors.js';
import { userForIsolation } from '../../src/sandbox/isolation.js';
import { mapping } from '../../src/workspace/userns.js';

describe('isolation levels', () => {
  it('maps gvisor to one runtime per engine, and runc to the engine default', () => {
    expect(runtimeArgs('docker', 'gvisor')).toEqual(['--runtime', 'corral-runsc']);
    expect(runtimeArgs('podman', 'gvisor', 'corral-x-net')).toEqual([
      '--runtime',
      '/usr/bin/runsc',
      '--runtime-flag',
      'network=host',
      '--runtime-flag',
      'host-uds=all',
      '--runtime-flag',
      'oci-seccomp',
    ]);
    // Podman leaves a `none` namespace's loopback down: gVisor's own loopback-only stack serves it.
    expect(runtimeArgs('podman', 'gvisor', 'none')).toContain('network=none');
    expect(runtimeArgs('podman', 'runc')).toEqual([]);
    const spec = { name: 'x', image: 'i', cmd: [], env: {}, labels: {}, user: '1', workdir: '/' };
    const base = { ...spec, tty: false, openStdin: false, mounts: [], capDrop: [], noNewPrivileges: true };
    expect(createBody({ ...base, isolation: 'gvisor' }).HostConfig).toMatchObject({
      Runtime: 'corral-runsc',
    });
    expect(createBody({ ...base, isolation: 'runc' }).HostConfig).not.toHaveProperty('Runtime');
  });

  it("turns Docker's unknown-runtime refusal into corral's error with the fix", () => {
    const e = dockerRuntimeError(
      'gvisor',
      '(HTTP code 400) unexpected - Unknown runtime specified corral-runsc',
    );
    expect(e).toBeInstanceOf(CorralError);
    expect(e?.message).toContain('Docker has no runtime named corral-runsc');
    expect(e?.hint).toContain('scripts/setup');
    expect(dockerRuntimeError('gvisor', 'No such image')).toBeUndefined();
    expect(dockerRuntimeError(undefined, 'Unknown runtime specified x')).toBeUndefined();
  });

  it('runs a gVisor sandbox without the per-container user namespace runsc cannot start in', () => {
    const root = { uid: 0, gid: 0 };
    const podmanRoot = { user: '1000:1000', idMappings: { uid: mapping(0), gid: mapping(0) } };
    expect(userForIsolation(podmanRoot, 'runc', root)).toBe(podmanRoot);
    // Root's group: gVisor checks mode bits, where the ACL grant shows up as the group bits.
    expect(userForIsolation(podmanRoot, 'gvisor', root)).toEqual({ user: '1000:0', reclaimTo: root });
    expect(userForIsolation({ user: '1000:1000', reclaimTo: root }, 'gvisor', root)).toEqual({
      user: '1000:0',
      reclaimTo: root,
    });
    const alice = { uid: 1001, gid: 1001 };
    expect(userForIsolation({ user: '1001:1001' }, 'gvisor', alice)).toEqual({ user: '1001:1001' });
  });

  it('gives gVisor a seccomp profile it applies cleanly: only nested user namespaces refused', () => {
    const p = gvisorProfile() as { defaultAction: string; syscalls: { names: string[]; action: string }[] };
    expect(p.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(p.syscalls.map((r) => [r.names, r.action])).toEqual([
      [['clone', 'unshare'], 'SCMP_ACT_ALLOW'],
      [['clone', 'unshare'], 'SCMP_ACT_ERRNO'],
    ]);
  });
});
