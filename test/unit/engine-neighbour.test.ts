/**
 * Which Podman containers get the neighbour settings of engine/neighbour.ts (issue 14), and that
 * they reach libpod's create body with a spec's own sysctls winning. The "engine" is a stand-in
 * HTTP server on a Unix socket that records the body.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeNetworked, NEIGHBOUR_SYSCTLS } from '../../src/engine/neighbour.js';
import { PodmanEngine } from '../../src/engine/podman.js';
import type { ContainerSpec } from '../../src/engine/types.js';

describe('bridgeNetworked', () => {
  it('is a named network, or the default one on rootful Podman, never gVisor', () => {
    expect(bridgeNetworked(undefined, false, undefined)).toBe(true);
    expect(bridgeNetworked('corral-abc-net', false, undefined)).toBe(true);
    expect(bridgeNetworked('corral-abc-net', true, undefined)).toBe(true);
    // Rootless Podman's default network is slirp4netns or pasta: no bridge, no eth0.
    expect(bridgeNetworked(undefined, true, undefined)).toBe(false);
    for (const n of ['none', 'host', 'private', 'slirp4netns', 'pasta', 'container:abc', 'ns:/run/netns/x'])
      expect(bridgeNetworked(n, false, undefined), n).toBe(false);
    expect(bridgeNetworked(undefined, false, 'gvisor')).toBe(false);
    expect(bridgeNetworked(undefined, false, 'runc')).toBe(true);
  });
});

describe("PodmanEngine's create body", () => {
  let dir: string;
  let server: Server;
  const bodies: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corral-nbr-unit-'));
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => {
        data += c;
      });
      req.on('end', () => {
        bodies.push(JSON.parse(data || '{}'));
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Id: 'abc' }));
      });
    });
    await new Promise<void>((r) => server.listen(join(dir, 'podman.sock'), r));
  });

  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const spec = (extra: Partial<ContainerSpec>): ContainerSpec => ({
    name: 'x',
    image: 'img',
    cmd: ['true'],
    env: {},
    labels: {},
    user: '1000:1000',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    ...extra,
  });

  async function create(rootless: boolean, extra: Partial<ContainerSpec>) {
    const engine = new PodmanEngine(
      'podman',
      'unix:///x',
      { socketPath: join(dir, 'podman.sock') },
      rootless,
    );
    await engine.createContainer(spec(extra));
    return bodies.at(-1) as { sysctl?: Record<string, string> };
  }

  it('adds them on a bridge, merged under the spec own sysctls', async () => {
    expect((await create(false, {})).sysctl).toEqual(NEIGHBOUR_SYSCTLS);
    const own = { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.neigh.eth0.ucast_solicit': '3' };
    expect((await create(false, { network: 'corral-w-net', sysctls: own })).sysctl).toEqual({
      ...NEIGHBOUR_SYSCTLS,
      ...own,
    });
  });

  it('adds nothing without a bridge: no network, rootless default', async () => {
    expect((await create(false, { network: 'none' })).sysctl).toBeUndefined();
    expect((await create(true, {})).sysctl).toBeUndefined();
    expect((await create(false, { network: 'none', sysctls: { a: '1' } })).sysctl).toEqual({ a: '1' });
  });
});
