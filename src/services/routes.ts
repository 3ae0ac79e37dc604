/**
 * Rebuild the route files (see gateway/service-files.ts) from the engine's view of the workspace's
 * running services. Called after every start and stop, so the files never drift from what runs.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJson } from '../config/json-store.js';
import type { ContainerEngine } from '../engine/index.js';
import { gatewayDirs } from '../gateway/folders.js';
import {
  type GatewayServiceRoute,
  HOSTS_FILE,
  hostsText,
  type SandboxServiceRoute,
  SERVICE_ROUTES_FILE,
  serviceSocket,
  writeHostsInPlace,
} from '../gateway/service-files.js';
import type { Workspace } from '../workspace/identity.js';
import { servicesNetwork } from './names.js';
import { listServices } from './query.js';

const SOCKET_WAIT_MS = 5000;

/** Every socket there: in the folder here, or in its copy where a remote engine's gateway runs. */
async function waitForSockets(engine: ContainerEngine, dir: string, sockets: string[]): Promise<boolean> {
  const remote = engine.hostFolders;
  const there = async (s: string) => (remote ? remote.socketReady(join(dir, s)) : existsSync(join(dir, s)));
  const deadline = Date.now() + SOCKET_WAIT_MS;
  while (Date.now() < deadline) {
    if ((await Promise.all(sockets.map(there))).every(Boolean)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Returns false when the gateway did not open a service's socket in time. */
export async function syncRoutes(engine: ContainerEngine, ws: Workspace): Promise<boolean> {
  const dirs = gatewayDirs(engine, ws.id);
  const net = servicesNetwork(ws.id);
  const gateway: GatewayServiceRoute[] = [];
  const sandbox: SandboxServiceRoute[] = [];
  for (const s of await listServices(engine, ws)) {
    if (s.state !== 'running') continue;
    const ip = (await engine.inspect(s.container))?.networks[net]?.ip;
    if (!ip) continue;
    for (const port of s.ports) {
      const socket = serviceSocket(s.name, port);
      gateway.push({ name: s.name, socket, host: ip, port });
      sandbox.push({ name: s.name, address: s.address, port, socket });
    }
  }
  // The gateway opens its sockets first, so a name never resolves before its path works.
  await writeJson(join(dirs.conf, SERVICE_ROUTES_FILE), { routes: gateway });
  // A remote engine's gateway and sandboxes read copies of these files on that machine.
  const remote = engine.hostFolders;
  await remote?.push(dirs.conf);
  const ready = await waitForSockets(
    engine,
    dirs.sock,
    gateway.map((r) => r.socket),
  );
  // Readable by the sandbox user, which may be another uid (Docker); it holds no secret.
  const file = join(dirs.sock, SERVICE_ROUTES_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify({ services: sandbox }, null, 2)}\n`, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  const hosts = hostsText(sandbox);
  await writeHostsInPlace(join(dirs.sock, HOSTS_FILE), hosts);
  if (remote) {
    await remote.push(dirs.sock);
    // Sandboxes mount the hosts file by itself: on that machine, its own copy.
    await remote.rewriteMounted(join(dirs.sock, HOSTS_FILE), Buffer.from(hosts));
  }
  return ready;
}
