/**
 * Runs starting together in one workspace each merge their keys and rules into the running
 * gateway's settings; `corral egress allow` adds rules to it too. Read-change-write under the
 * settings lock: none of them may lose another's additions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  gatewayDirs,
  mergeSettings,
  readGatewaySettings,
  unchangedRevision,
  updateGatewaySettings,
} from '../../src/gateway/folders.js';
import type { GatewaySettings } from '../../src/gateway/settings.js';

let data: string;
beforeEach(async () => {
  data = await mkdtemp(join(tmpdir(), 'corral-gw-settings-'));
  vi.stubEnv('CORRAL_DATA_DIR', data);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(data, { recursive: true, force: true });
});

const settings = (n: number): GatewaySettings => ({
  workspace: 'ws1',
  policy: { rules: [], intercept: [], allowHostPorts: [], hostAddresses: [] },
  hostAliases: [],
  hosts: {},
  intercept: true,
  idleMinutes: 30,
  credentials: [
    { host: `api${n}.example`, header: 'x-api-key', value: `value-${n}`, placeholder: `placeholder-${n}` },
  ],
  brokered: [],
  upstreamCa: [],
});

describe('gateway settings updates', () => {
  it('keep every concurrent addition', async () => {
    const dirs = gatewayDirs('podman', 'ws1');
    await updateGatewaySettings(dirs, () => settings(0));
    const revisions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        updateGatewaySettings(dirs, async (current) => {
          // A gap between the read and the write, as a real run has (engine calls, file reads).
          await new Promise((r) => setTimeout(r, 5));
          return current ? mergeSettings(current, settings(i + 1)) : settings(i + 1);
        }),
      ),
    );
    const final = await readGatewaySettings('podman', 'ws1');
    expect(final?.credentials.map((c) => c.host).sort()).toEqual(
      Array.from({ length: 13 }, (_, i) => `api${i}.example`).sort(),
    );
    // Each write has its own revision, counted up: a run waits for the gateway to apply its own
    // or a later one (which was merged from it).
    expect([...revisions].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 2),
    );
    expect(final?.revision).toBe(13);
  });

  it('writes nothing when the change returns nothing', async () => {
    const dirs = gatewayDirs('docker', 'ws2');
    await updateGatewaySettings(dirs, () => undefined);
    expect(await readGatewaySettings('docker', 'ws2')).toBeUndefined();
  });

  it('tell a run whose settings the gateway serves already (no hand-over) from one that changes them', async () => {
    const dirs = gatewayDirs('podman', 'ws3');
    expect(await unchangedRevision(dirs, settings(1))).toBeUndefined();
    await updateGatewaySettings(dirs, () => settings(1));
    await updateGatewaySettings(dirs, () => settings(1));
    expect(await unchangedRevision(dirs, settings(1))).toBe(2);
    // Another key, rule or host port: a change.
    expect(await unchangedRevision(dirs, settings(2))).toBeUndefined();
    const s = settings(1);
    expect(
      await unchangedRevision(dirs, { ...s, policy: { ...s.policy, allowHostPorts: [8080] } }),
    ).toBeUndefined();
    // The file refuses host addresses the host no longer has (interfaces come and go): still the
    // same; an address of the host the file does not refuse: a change.
    const current = await readGatewaySettings('podman', 'ws3');
    await updateGatewaySettings(dirs, () => ({
      ...s,
      policy: { ...s.policy, hostRefused: [...(current?.policy.hostRefused ?? []), '192.0.2.99'] },
    }));
    expect(await unchangedRevision(dirs, settings(1))).toBe(3);
    await updateGatewaySettings(dirs, () => ({ ...s, policy: { ...s.policy, hostRefused: [] } }));
    expect(
      await unchangedRevision(dirs, { ...s, policy: { ...s.policy, hostRefused: ['192.0.2.98'] } }),
    ).toBeUndefined();
  });
});
