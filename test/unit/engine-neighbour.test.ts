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
import { NEIGHBOUR_SYSCTLS, neighbourSysctls } from '../../src/engine/neighbour.js';
import { PodmanEngine } from '../../src/engine/podman.js';
import type { ContainerSpec } from '../../src/engine/types.js';

describe('neighbourSysctls', () => {
  const on = (spec: Parameters<typeof neighbourSysctls>[0], rootless = false) =>
    Object.keys(neighbourSysctls(spec, rootless)).length > 0;
  const ids = {
    uid: [{ containerId: 0, hostId: 1, size: 1000 }],
    gid: [{ containerId: 0, hostId: 1, size: 1000 }],
  };

  it('is the default network or a named one, on rootful Podman only', () => {
    expect(on({})).toBe(true);
    expect(on({ network: 'corral-abc-net' })).toBe(true);
    expect(on({ isolation: 'runc' })).toBe(true);
    expect(on({}, true)).toBe(false);
    expect(on({ network: 'corral-abc-net' }, true)).toBe(false);
    for (const n of ['none', 'host', 'private', 'slirp4netns', 'pasta', 'container:abc', 'ns:/run/netns/x'])
      expect(on({ network: n }), n).toBe(false);
  });

  it('is never gVisor, nor a container with a user namespace of its own', () => {
    expect(on({ isolation: 'gvisor' })).toBe(false);
    expect(on({ idMappings: ids })).toBe(false);
    expect(on({ keepId: { uid: 1000, gid: 1000 } })).toBe(false);
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

  it('adds nothing without a bridge (no network, rootless default) or with a uid mapping', async () => {
    expect((await create(false, { network: 'none' })).sysctl).toBeUndefined();
    const ids = {
      uid: [{ containerId: 0, hostId: 1, size: 1 }],
      gid: [{ containerId: 0, hostId: 1, size: 1 }],
    };
    expect((await create(false, { idMappings: ids })).sysctl).toBeUndefined();
    expect((await create(true, {})).sysctl).toBeUndefined();
    expect((await create(false, { network: 'none', sysctls: { a: '1' } })).sysctl).toEqual({ a: '1' });
  });
});
