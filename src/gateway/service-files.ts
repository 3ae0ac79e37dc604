/**
 * The files that tell a workspace's gateway and sandboxes which services run. The host writes them;
 * the gateway reads `conf/services.json` (where each service really is), the sandbox's forwarder
 * reads `sock/services.json` (which loopback address and port to serve it on), and the sandbox's
 * /etc/hosts is `sock/hosts`, so `postgres` resolves to that address.
 */
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SERVICE_ROUTES_FILE = 'services.json';
export const HOSTS_FILE = 'hosts';

/** One service port as the gateway relays it: its socket in the shared folder → host:port. */
export interface GatewayServiceRoute {
  /** The service's short name: a proxied request for name:port goes to host:port too. */
  name: string;
  socket: string;
  host: string;
  port: number;
}

/** One service port as the sandbox serves it: address:port → the gateway's socket. */
export interface SandboxServiceRoute {
  name: string;
  address: string;
  port: number;
  socket: string;
}

export const serviceSocket = (name: string, port: number): string => `svc-${name}-${port}.sock`;

export const BASE_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

export function hostsText(routes: { name: string; address: string }[]): string {
  const seen = new Map(routes.map((r) => [r.name, r.address]));
  return BASE_HOSTS + [...seen].map(([name, address]) => `${address}\t${name}\n`).join('');
}

/**
 * Rewrite the hosts file in place: sandboxes bind-mount this very inode at /etc/hosts, and a
 * rename would leave them the old one. The new text is written first and the file cut to it
 * after, so a reader never sees it empty.
 */
export async function writeHostsInPlace(path: string, text: string): Promise<void> {
  const fh = await open(path, existsSync(path) ? 'r+' : 'w', 0o644);
  try {
    const buf = Buffer.from(text);
    await fh.write(buf, 0, buf.length, 0);
    await fh.truncate(buf.length);
  } finally {
    await fh.close();
  }
}

/** The hosts file must exist before a sandbox mounts it. */
export async function ensureHostsFile(sockDir: string): Promise<void> {
  const path = join(sockDir, HOSTS_FILE);
  if (!existsSync(path)) await writeFile(path, BASE_HOSTS, { mode: 0o644 });
}
