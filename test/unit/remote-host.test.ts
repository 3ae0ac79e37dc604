/** Which machine is "the host" for a remote engine's sandboxes: pure parts. */
import { describe, expect, it } from 'vitest';
import { checkRemoteSupport } from '../../src/core/start/remote-limits.js';
import { isHostUrl, modelEgress, sandboxModelUrl } from '../../src/core/start/support.js';
import type { ContainerEngine } from '../../src/engine/index.js';
import { machineAddresses } from '../../src/engine/remote/addresses.js';
import { CorralError } from '../../src/errors.js';
import { interfaceAddresses } from '../../src/gateway/host-addresses.js';

const REMOTE = 'ssh://dev@build.example';
/** One of this machine's own non-loopback addresses (this machine has one: an engine bridge at least). */
const here = interfaceAddresses().find((a) => a.includes('.') && !a.startsWith('127.')) ?? '10.0.0.1';

describe('the remote machine as the host', () => {
  it("lists the remote machine's addresses from /proc's fib_trie and if_inet6 output", () => {
    const out = [
      '10.251.0.2',
      '127.0.0.1',
      '10.251.0.2',
      'fe80000000000000704943fffe0b814d 1682 40 20 80    crmt1',
      '00000000000000000000000000000001 01 80 10 80       lo',
      '',
    ].join('\n');
    expect(machineAddresses(out)).toEqual(['10.251.0.2', '127.0.0.1', 'fe80::7049:43ff:fe0b:814d', '::1']);
  });

  it("on a remote engine, only the host alias is the host; this machine's address is an ordinary one", () => {
    expect(isHostUrl(new URL(`http://${here}:8080`))).toBe(true);
    expect(isHostUrl(new URL(`http://${here}:8080`), REMOTE)).toBe(false);
    expect(modelEgress(`http://${here}:8080`, REMOTE)).toEqual({ allow: `${here}:8080` });
    expect(sandboxModelUrl(`http://${here}:8080/v1`, 'host.containers.internal', REMOTE)).toBe(
      `http://${here}:8080/v1`,
    );
    // A server on the remote machine itself, by the alias.
    expect(modelEgress('http://host.containers.internal:11434', REMOTE)).toEqual({ hostPort: 11434 });
  });

  it("refuses this machine's loopback on a remote engine instead of sending it to the remote one's", () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:9/v1', 'http://[::1]:8080']) {
      expect(() => sandboxModelUrl(url, 'host.containers.internal', REMOTE)).toThrow(
        /loopback.*build\.example/,
      );
      expect(() => modelEgress(url, REMOTE)).toThrow(CorralError);
    }
  });

  it('lets a remote engine publish ports behind the gateway only, and services anywhere', () => {
    const remote = { remote: REMOTE } as ContainerEngine;
    const local = {} as ContainerEngine;
    const gateway = { network: 'gateway' as const };
    expect(() => checkRemoteSupport(remote, gateway, { ports: ['8080'] })).not.toThrow();
    expect(() => checkRemoteSupport(remote, { ...gateway, ports: ['3000'] }, {})).not.toThrow();
    expect(() => checkRemoteSupport(remote, gateway, { ports: ['8080'], network: 'open' })).toThrow(
      /Published ports \(8080\) on the remote engine .* need the gateway network \(this run has --network open\)/,
    );
    expect(() => checkRemoteSupport(remote, { network: 'none', ports: ['3000'] }, {})).toThrow(
      /Published ports \(3000\)/,
    );
    expect(() => checkRemoteSupport(remote, { network: 'open' }, {})).not.toThrow();
    expect(() => checkRemoteSupport(local, { network: 'open' }, { ports: ['8080'] })).not.toThrow();
  });

  it('refuses gVisor on a remote Podman (its runtime service would start on this machine), not on remote Docker', () => {
    const podman = { remote: REMOTE, kind: 'podman' } as ContainerEngine;
    const docker = { remote: REMOTE, kind: 'docker' } as ContainerEngine;
    const local = { kind: 'podman' } as ContainerEngine;
    const gateway = { network: 'gateway' as const };
    const err = (() => {
      try {
        checkRemoteSupport(podman, gateway, {}, 'gvisor');
      } catch (e) {
        return e as CorralError;
      }
    })();
    expect(err?.code).toBe('UNSUPPORTED');
    expect(err?.message).toMatch(
      /--isolation gvisor is not offered on the remote Podman engine ssh:\/\/.*only on this machine/,
    );
    expect(err?.hint).toMatch(/--isolation runc/);
    expect(() => checkRemoteSupport(podman, gateway, {}, 'runc')).not.toThrow();
    expect(() => checkRemoteSupport(docker, gateway, {}, 'gvisor')).not.toThrow();
    expect(() => checkRemoteSupport(local, gateway, {}, 'gvisor')).not.toThrow();
  });
});

describe("a workspace's gateway settings across machines", () => {
  it("keeps one machine's host addresses: a remote run does not inherit this machine's, nor the reverse", async () => {
    const { mergeSettings } = await import('../../src/gateway/folders.js');
    const { buildPolicy } = await import('../../src/gateway/policy.js');
    const base = {
      workspace: 'w',
      hostAliases: [],
      hosts: {},
      intercept: true,
      idleMinutes: 30,
      upstreamCa: [],
    };
    const settings = (hostRefused: string[], hostMachine?: string) => ({
      ...base,
      ...(hostMachine ? { hostMachine } : {}),
      policy: { ...buildPolicy({ agentDomains: ['api.anthropic.com'] }), hostRefused },
      credentials: [],
    });
    const local = settings(['192.168.1.5']);
    const remote = settings(['10.251.0.2'], REMOTE);
    expect(mergeSettings(local, remote).policy.hostRefused).toEqual(['10.251.0.2']);
    expect(mergeSettings(remote, local).policy.hostRefused).toEqual(['192.168.1.5']);
    expect(mergeSettings(remote, settings(['10.251.0.3'], REMOTE)).policy.hostRefused).toEqual([
      '10.251.0.2',
      '10.251.0.3',
    ]);
    expect(mergeSettings(local, remote).hostMachine).toBe(REMOTE);
  });
});
