/**
 * The gateway's side of the workspace's services: for each route in conf/services.json, a Unix
 * socket in the folder shared with the sandboxes, relayed to the service's address on the
 * workspace's services network (which this container joins). The sandbox's forwarder serves that
 * socket on the service's loopback address; nothing else of the services network is reachable.
 */
import { readFile, rm, chmod as setMode } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { EgressPolicy } from './policy.js';
import { RELAY_SERVER, relayTo } from './relay.js';
import { type GatewayServiceRoute, SERVICE_ROUTES_FILE } from './service-files.js';

const SOCKET = /^svc-[a-z0-9-]+-\d{1,5}\.sock$/;

export interface ServiceRelay {
  /** Re-read the routes file and open or close sockets to match. */
  sync(): Promise<void>;
  /** The routes served now. */
  routes(): GatewayServiceRoute[];
  close(): Promise<void>;
}

async function readRoutes(confDir: string): Promise<GatewayServiceRoute[]> {
  try {
    const parsed = JSON.parse(await readFile(join(confDir, SERVICE_ROUTES_FILE), 'utf8')) as {
      routes?: GatewayServiceRoute[];
    };
    return (parsed.routes ?? []).filter(
      (r) =>
        SOCKET.test(r.socket) &&
        typeof r.name === 'string' &&
        typeof r.host === 'string' &&
        Number.isInteger(r.port),
    );
  } catch {
    return [];
  }
}

export function serviceRelay(
  confDir: string,
  socketDir: string,
  log: (line: string) => void,
  /** Counted like the proxy's connections, so a database in use keeps the gateway from idling out. */
  onConnection: (open: boolean) => void = () => {},
): ServiceRelay {
  const open = new Map<string, { server: Server; target: string }>();
  const closeOne = async (socket: string) => {
    open.get(socket)?.server.close();
    open.delete(socket);
    await rm(join(socketDir, socket), { force: true });
  };
  let queue = Promise.resolve();
  let current: GatewayServiceRoute[] = [];
  const sync = async () => {
    const routes = await readRoutes(confDir);
    current = routes;
    const wanted = new Map(routes.map((r) => [r.socket, r]));
    for (const [socket, cur] of open) {
      const r = wanted.get(socket);
      if (!r || `${r.host}:${r.port}` !== cur.target) await closeOne(socket);
    }
    for (const r of routes) {
      if (open.has(r.socket)) continue;
      const path = join(socketDir, r.socket);
      await rm(path, { force: true });
      const server = createServer(RELAY_SERVER, (client) => {
        onConnection(true);
        client.once('close', () => onConnection(false));
        relayTo(client, { port: r.port, host: r.host, noDelay: true });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, resolve);
      }).catch((e: Error) => log(`cannot open ${r.socket}: ${e.message}`));
      if (!server.listening) continue;
      // Sandboxes connect under other uids.
      await setMode(path, 0o666);
      open.set(r.socket, { server, target: `${r.host}:${r.port}` });
      log(`service socket ${r.socket} → ${r.host}:${r.port}`);
    }
  };
  return {
    sync: () => {
      queue = queue.then(sync, sync);
      return queue;
    },
    routes: () => current,
    close: async () => {
      for (const socket of [...open.keys()]) await closeOne(socket);
    },
  };
}

/**
 * HTTP clients in the sandbox send `http://postgres:5432/` to the proxy (a name added at run time
 * cannot be in NO_PROXY): the proxy lets each service's name and port through to it, resolved by
 * `serviceResolve`. A deny rule still wins; nothing else on the services network is allowed.
 */
export function withServices(policy: EgressPolicy, routes: GatewayServiceRoute[]): EgressPolicy {
  if (!routes.length) return policy;
  const rules = routes.map((r) => ({
    action: 'allow' as const,
    host: r.name,
    port: r.port,
    source: 'project' as const,
  }));
  return { ...policy, rules: [...policy.rules, ...rules] };
}

/** A service's name resolves to its address on the services network, for the proxy. */
export function serviceAddress(routes: GatewayServiceRoute[], host: string): string[] | undefined {
  const r = routes.find((x) => x.name === host);
  return r ? [r.host] : undefined;
}
