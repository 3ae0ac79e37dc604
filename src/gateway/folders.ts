/**
 * Where a workspace's gateway keeps its files on the host (settings, the socket folder the
 * sandboxes share, the audit log) and how its settings file is read, merged and written.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { withFileLock } from '../config/file-lock.js';
import { dataFile, writeFileAtomic, writeJson } from '../config/json-store.js';
import type { EngineKind } from '../engine/index.js';
import { withHostAddresses } from './host-addresses.js';
import { ensureHostsFile } from './service-files.js';
import {
  CA_PUBLIC_FILE,
  FORWARDER_FILE,
  type GatewaySettings,
  GATEWAY_CONTAINER_PATHS as P,
  RELAY_FILE,
} from './settings.js';

// From the package root, so tests running the TypeScript sources find the built file too.
export const FORWARDER_JS = fileURLToPath(
  new URL('../../dist/gateway/forwarder.bundle.mjs', import.meta.url),
);

/** The Go relay `npm run build` makes when Go is there (scripts/bundle.mjs); absent otherwise. */
export const RELAY_BIN = fileURLToPath(new URL('../../dist/gateway/corral-relay', import.meta.url));

export interface GatewayDirs {
  root: string;
  conf: string;
  /** Shared with the workspace's sandboxes (read-only there): the socket, forwarder, CA cert. */
  sock: string;
  log: string;
}

/** The engine a gateway runs on: its kind, and the machine when it is another one. */
export type GatewayEngine = EngineKind | { readonly kind: EngineKind; readonly remote?: string | undefined };

/**
 * Per engine too: a workspace used with both engines has a gateway on each. And per machine: a
 * remote engine's gateway (`--remote`) is another gateway than the local one of the same kind, so
 * its folder is named after the machine too (a short hash of its URL: socket paths in it must stay
 * short). A local engine's folder keeps its name from before remote engines.
 */
export function gatewayDirs(engine: GatewayEngine, workspaceId: string): GatewayDirs {
  const kind = typeof engine === 'string' ? engine : engine.kind;
  const remote = typeof engine === 'string' ? undefined : engine.remote;
  const machine = remote ? `-${createHash('sha256').update(remote).digest('hex').slice(0, 8)}` : '';
  return dirsAt(dataFile(join('gateways', `${kind}${machine}-${workspaceId}`)));
}

const dirsAt = (root: string): GatewayDirs => ({
  root,
  conf: join(root, 'conf'),
  sock: join(root, 'sock'),
  log: join(root, 'log'),
});

/**
 * Every gateway folder of a workspace (each engine, each machine), for what applies to all of them
 * (`corral egress allow`): the settings in each say which machine it is on (hostMachine).
 */
export async function workspaceGatewayDirs(
  workspaceId: string,
): Promise<{ kind: EngineKind; dirs: GatewayDirs }[]> {
  const names = await readdir(dataFile('gateways')).catch(() => [] as string[]);
  const out: { kind: EngineKind; dirs: GatewayDirs }[] = [];
  for (const name of names.sort()) {
    const m = /^(podman|docker|kubernetes)(-[0-9a-f]{8})?-([0-9a-f]+)$/.exec(name);
    if (!m || m[3] !== workspaceId) continue;
    out.push({ kind: m[1] as EngineKind, dirs: dirsAt(dataFile(join('gateways', name))) });
  }
  return out;
}

/** Where a gateway sandbox serves its published ports as sockets (a relay, or SSH, connects there). */
export const inboundDir = (root: string, sandboxName: string): string => join(root, 'in', sandboxName);

export const caDir = (): string => dataFile('ca');
/** The login store (src/auth/store.ts), shared by every workspace's gateway. */
export const authRoot = (): string => dataFile('auth');

export async function readGatewaySettings(
  engine: GatewayEngine | GatewayDirs,
  workspaceId: string,
): Promise<GatewaySettings | undefined> {
  const dirs = typeof engine === 'object' && 'conf' in engine ? engine : gatewayDirs(engine, workspaceId);
  const path = join(dirs.conf, P.settingsFile);
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as GatewaySettings;
}

const unique = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];

/**
 * A running gateway may serve another agent's sandbox in the workspace: keep what it allows and
 * the placeholders it knows, and add this run's.
 */
export function mergeSettings(current: GatewaySettings, next: GatewaySettings): GatewaySettings {
  const c = current.policy;
  const n = next.policy;
  return {
    ...next,
    policy: {
      rules: unique([...c.rules, ...n.rules]),
      intercept: unique([...c.intercept, ...n.intercept]),
      allowHostPorts: unique([...c.allowHostPorts, ...n.allowHostPorts]),
      hostAddresses: unique([...c.hostAddresses, ...n.hostAddresses]),
      // Another machine's addresses (a local and a remote engine share the folder) are not the host.
      hostRefused:
        current.hostMachine === next.hostMachine
          ? unique([...(c.hostRefused ?? []), ...(n.hostRefused ?? [])])
          : [...(n.hostRefused ?? [])],
    },
    credentials: unique([...current.credentials, ...next.credentials]),
    brokered: unique([...(current.brokered ?? []), ...(next.brokered ?? [])]),
  };
}

/**
 * Change what a gateway serves (a running gateway reloads it): read, change and write under the
 * settings lock, so runs starting together and `corral egress allow` never overwrite each other's
 * additions.
 */
export async function updateGatewaySettings(
  dirs: GatewayDirs,
  change: (
    current: GatewaySettings | undefined,
  ) => GatewaySettings | undefined | Promise<GatewaySettings | undefined>,
): Promise<number | undefined> {
  await mkdir(dirs.conf, { recursive: true });
  const path = join(dirs.conf, P.settingsFile);
  let revision: number | undefined;
  await withFileLock(
    dirs.conf,
    { lockfilePath: join(dirs.root, 'settings.lock'), patience: 'short' },
    async () => {
      const current = existsSync(path)
        ? (JSON.parse(await readFile(path, 'utf8')) as GatewaySettings)
        : undefined;
      const next = await change(current);
      if (!next) return;
      revision = (current?.revision ?? 0) + 1;
      // It may hold real keys: 0600, readable by the user (and the gateway, which runs as the user) only.
      await writeJson(path, { ...asWritten(next), revision });
    },
  );
  return revision;
}

/** Settings as the file holds them, without the revision. */
function asWritten(next: GatewaySettings): GatewaySettings {
  // The host's addresses as they are now (an interface may have come up since the last write).
  // A remote engine's gateway keeps the remote machine's, listed there at run time.
  const hostRefused = next.hostMachine
    ? (next.policy.hostRefused ?? [])
    : withHostAddresses(next.policy.hostRefused);
  const { revision: _, ...rest } = next;
  return { ...rest, policy: { ...next.policy, hostRefused } };
}

/**
 * The revision of the settings file when it holds `next` already, as updateGatewaySettings would
 * write it (a run like the last one in the workspace); undefined when anything differs. Merged
 * with itself, such a file is unchanged too, so a run need not ask who else uses the gateway.
 * The host's addresses may be more than now (containers' interfaces come and go): refusing an
 * address the host had a moment ago is what a shared gateway's merge does too. Read without the
 * lock: writes replace the file whole.
 */
export async function unchangedRevision(
  dirs: GatewayDirs,
  next: GatewaySettings,
): Promise<number | undefined> {
  const text = await readFile(join(dirs.conf, P.settingsFile), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const { revision, ...current } = JSON.parse(text) as GatewaySettings;
  // Compared as JSON would carry them: keys left undefined are not written.
  const planned = JSON.parse(JSON.stringify(asWritten(next))) as GatewaySettings;
  const refused = new Set(current.policy.hostRefused ?? []);
  if (!(planned.policy.hostRefused ?? []).every((a) => refused.has(a))) return undefined;
  const same = isDeepStrictEqual(
    { ...current, policy: { ...current.policy, hostRefused: [] } },
    { ...planned, policy: { ...planned.policy, hostRefused: [] } },
  );
  return revision && same ? revision : undefined;
}

/**
 * The placeholders the workspace's gateway swaps now, by real value, from its settings file (0600,
 * written by corral on this machine): a run with the same key reuses its placeholder, so its
 * settings match and `unchangedRevision` applies. Empty when there is no readable file.
 */
export async function servedPlaceholders(dirs: GatewayDirs): Promise<Map<string, string>> {
  const served = new Map<string, string>();
  const text = await readFile(join(dirs.conf, P.settingsFile), 'utf8').catch(() => undefined);
  try {
    const { credentials } = JSON.parse(text ?? '{}') as { credentials?: unknown };
    for (const c of Array.isArray(credentials) ? credentials : []) {
      const { value, placeholder } = (c ?? {}) as { value?: unknown; placeholder?: unknown };
      if (typeof value === 'string' && typeof placeholder === 'string') served.set(value, placeholder);
    }
  } catch {
    // A torn or foreign file: new placeholders, as before.
  }
  return served;
}

/**
 * Whether the workspace's gateway serves settings revision `revision` or a later one (each later
 * one was written under the lock from the one before, so it holds what that one added).
 */
export async function gatewayServes(dirs: GatewayDirs, revision: number): Promise<boolean> {
  const applied = Number(await readFile(join(dirs.log, P.appliedFile), 'utf8').catch(() => '0')) || 0;
  return applied >= revision;
}

/**
 * What a sandbox behind the gateway mounts (the shared folder and the hosts file in it), made
 * before the sandbox is created: Docker refuses to create a container whose bind source is missing.
 */
export async function prepareSandboxMounts(dirs: GatewayDirs): Promise<void> {
  await mkdir(dirs.sock, { recursive: true, mode: 0o755 });
  // Sandboxes under other uids must reach the socket; nothing secret lives in this folder.
  await chmod(dirs.sock, 0o755);
  await ensureHostsFile(dirs.sock);
}

/**
 * The relay is 3 MB and this runs on every start: a copy carries the build's mtime, so size and
 * mtime tell whether it is this build's without reading either file.
 */
async function copyRelay(to: string): Promise<void> {
  const [src, dst] = await Promise.all([stat(RELAY_BIN), stat(to).catch(() => undefined)]);
  if (dst && dst.size === src.size && dst.mtimeMs === src.mtimeMs && (dst.mode & 0o777) === 0o755) return;
  await writeFileAtomic(to, await readFile(RELAY_BIN), 0o755);
  // Sandboxes run it under another uid, whatever the umask made of the mode.
  await chmod(to, 0o755);
  await utimes(to, src.atime, src.mtime);
}

export async function prepareDirs(dirs: GatewayDirs, intercept: boolean): Promise<void> {
  await prepareSandboxMounts(dirs);
  await mkdir(dirs.log, { recursive: true, mode: 0o700 });
  const forwarder = join(dirs.sock, FORWARDER_FILE);
  const source = await readFile(FORWARDER_JS);
  if (!existsSync(forwarder) || !source.equals(await readFile(forwarder))) {
    await writeFileAtomic(forwarder, source, 0o644);
  }
  // The relay when this build has one; else none, so sandboxes run the forwarder, not an old relay.
  const relay = join(dirs.sock, RELAY_FILE);
  if (existsSync(RELAY_BIN)) await copyRelay(relay);
  else await rm(relay, { force: true });
  if (intercept) await copyFile(join(caDir(), 'ca.crt'), join(dirs.sock, CA_PUBLIC_FILE));
}
