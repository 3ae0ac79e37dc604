/**
 * A workspace's gateway folder is per engine and per machine: a remote engine's gateway (another
 * machine, same kind) never shares the local one's settings, sockets or log, and the local
 * folders keep the names they had before remote engines.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gatewayDirs, workspaceGatewayDirs } from '../../src/gateway/folders.js';

let data: string;
beforeEach(async () => {
  data = await mkdtemp(join(tmpdir(), 'corral-gw-folders-'));
  vi.stubEnv('CORRAL_DATA_DIR', data);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(data, { recursive: true, force: true });
});

const WS = '0123456789ab';

describe('gateway folders', () => {
  it('keep the local names, and name a remote machine apart', () => {
    expect(basename(gatewayDirs('podman', WS).root)).toBe(`podman-${WS}`);
    expect(gatewayDirs({ kind: 'docker' }, WS).root).toBe(gatewayDirs('docker', WS).root);
    const a = gatewayDirs({ kind: 'podman', remote: 'ssh://u@a.example' }, WS).root;
    const b = gatewayDirs({ kind: 'podman', remote: 'ssh://u@b.example' }, WS).root;
    expect(basename(a)).toMatch(new RegExp(`^podman-[0-9a-f]{8}-${WS}$`));
    expect(new Set([a, b, gatewayDirs('podman', WS).root]).size).toBe(3);
  });

  it("lists every folder of one workspace, on each engine and machine, and no other's", async () => {
    const remote = gatewayDirs({ kind: 'docker', remote: 'ssh://u@a.example' }, WS);
    for (const d of [gatewayDirs('podman', WS), remote, gatewayDirs('podman', 'ba9876543210')])
      await mkdir(d.conf, { recursive: true });
    const found = await workspaceGatewayDirs(WS);
    expect(found.map((f) => [f.kind, f.dirs.root])).toEqual([
      ['docker', remote.root],
      ['podman', gatewayDirs('podman', WS).root],
    ]);
  });
});
