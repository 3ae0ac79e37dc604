/**
 * One gateway container per workspace, `corral-<ws>-gateway`, on the engine's ordinary network: the
 * only thing that can reach out for the workspace's sandboxes, which have no network of their own.
 * It is started on the first run that needs it and reused by later ones; a changed policy is a new
 * settings file, which the running gateway picks up. It exits by itself `egress.gateway_linger`
 * seconds after its last sandbox. Its folders and settings file: folders.ts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../config/file-lock.js';
import {
  type ContainerDetails,
  type ContainerEngine,
  type ContainerSpec,
  type EngineKind,
  hostAlias,
} from '../engine/index.js';
import { socketAccepts } from '../socket.js';
import { trace } from '../trace.js';
import { LABELS } from '../workspace/identity.js';
import {
  authRoot,
  caDir,
  type GatewayDirs,
  type GatewayEngine,
  gatewayDirs,
  mergeSettings,
  prepareDirs,
  readGatewaySettings,
  unchangedRevision,
  updateGatewaySettings,
} from './folders.js';
import * as lease from './lease.js';
import { tookRevision, waitFor, waitReady } from './readiness.js';
import { type GatewaySettings, GATEWAY_CONTAINER_PATHS as P } from './settings.js';
import { GATEWAY_PROCESS_ENV } from './tuning.js';

export const LABEL_GATEWAY_IMAGE = 'io.corral.gateway-image';
export const gatewayName = (workspaceId: string): string => `corral-${workspaceId}-gateway`;

export interface GatewayOptions {
  image: string;
  engine: EngineKind;
  /** uid:gid the gateway runs as, so the files it makes in corral's folders are the user's. */
  user: string;
  settings: GatewaySettings;
  /** The run's session: its own lease does not count as another user of the gateway. */
  session?: string;
  /**
   * On an engine network (Podman's `podman`) rather than the engine's default: a rootless Podman's
   * default (slirp4netns) cannot join the workspace's services network later.
   */
  network?: string;
  /**
   * A new gateway: return once its container has started, with `listening` for the rest. The
   * sandbox's relay waits up to 5 s for a gateway socket that is not there yet (relay/splice.go),
   * so the sandbox and the gateway can start side by side (a gateway's boot is 100–250 ms here).
   * A new gateway's first settings are this run's: nothing it serves before them.
   */
  early?: boolean;
}

/** The network a gateway is created on: see GatewayOptions.network. */
export const gatewayNetwork = (engine: ContainerEngine): string | undefined =>
  // Remote only for now: a local rootless Podman keeps the network its users have tested.
  engine.kind === 'podman' && engine.rootless && engine.remote ? 'podman' : undefined;

/** The gateway container, as created (and as `--dry-run` prints it). */
export function gatewayContainerSpec(opts: GatewayOptions, dirs: GatewayDirs): ContainerSpec {
  const ws = opts.settings.workspace;
  return {
    name: gatewayName(ws),
    image: opts.image,
    cmd: ['node', '/opt/corral/gateway.mjs'],
    env: { ...GATEWAY_PROCESS_ENV },
    labels: {
      [LABELS.managed]: 'true',
      [LABELS.workspace]: ws,
      [LABELS.role]: 'gateway',
      [LABEL_GATEWAY_IMAGE]: opts.image,
    },
    user: opts.user,
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [
      { type: 'bind', source: dirs.conf, target: P.confDir, readOnly: true },
      { type: 'bind', source: dirs.sock, target: P.socketDir },
      { type: 'bind', source: dirs.log, target: P.logDir },
      { type: 'bind', source: authRoot(), target: P.authDir },
      ...(opts.settings.intercept
        ? [{ type: 'bind' as const, source: caDir(), target: P.caDir, readOnly: true }]
        : []),
    ],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    pidsLimit: 256,
    memoryBytes: 512 * 1024 * 1024,
    ...(opts.engine === 'docker' ? { extraHosts: [`${hostAlias('docker')}:host-gateway`] } : {}),
    ...(opts.network ? { network: opts.network } : {}),
    // Kept when it exits, so a failure's logs can be shown; the next start replaces it.
    autoRemove: false,
    // The proxy's socket (and the bridge's, relayed in) are used by the workspace's sandboxes.
    serveSockets: true,
  };
}

/**
 * Start the workspace's gateway unless it is running on this image (then hand it this run's
 * settings, merged with what it already serves); returns its folders.
 */
export async function ensureGateway(
  engine: ContainerEngine,
  opts: GatewayOptions,
): Promise<GatewayDirs & { listening?: Promise<void> }> {
  const ws = opts.settings.workspace;
  const dirs = gatewayDirs(engine, ws);
  await prepareDirs(dirs, opts.settings.intercept);
  const name = gatewayName(ws);
  const serves = (c: ContainerDetails) => c.running && c.labels[LABEL_GATEWAY_IMAGE] === opts.image;
  const inUse = () =>
    lease.gatewayInUse(engine, dirs.root, ws, opts.session ? { session: opts.session } : {});
  const handOver = async (id: string, looked: Promise<boolean> = inUse()) => {
    // Add to what it serves only for sandboxes (or runs starting) that still use it: a gateway
    // lingering after the last run gets this run's policy alone, not the last run's flags too.
    const shared = await looked;
    trace('gw: in use?');
    const revision = await updateGatewaySettings(dirs, (serving) =>
      shared && serving ? mergeSettings(serving, opts.settings) : opts.settings,
    );
    // Until the gateway has reloaded, it serves the last run's policy (and keys): this run's
    // sandbox must not start before that. It reports a revision only while it listens.
    await engine.hostFolders?.push(dirs.conf);
    await waitFor(
      engine,
      id,
      () => tookRevision(engine, dirs, revision ?? 0),
      "did not take this run's settings",
    );
    return dirs;
  };
  // A run like the last one in the workspace finds its settings served already: nothing to hand
  // over, and no engine list of who else uses the gateway (on Podman that list waits for the
  // sandbox being created alongside: 20-50 ms). A remote engine's copy is pushed on every run.
  const unchanged = engine.hostFolders ? undefined : await unchangedRevision(dirs, opts.settings);
  // Else asked alongside the inspect (one engine round trip less before the hand-over, 10-30 ms
  // on Podman): this run's lease is taken already, so it sees what asking after would.
  const looked = unchanged === undefined ? inUse() : undefined;
  looked?.catch(() => {});
  const current = await engine.inspect(name);
  if (current && serves(current)) {
    if (unchanged === undefined) return handOver(current.id, looked);
    trace('gw: unchanged');
    // Written by a run a moment ago, it may not be loaded yet.
    await waitFor(
      engine,
      current.id,
      () => tookRevision(engine, dirs, unchanged),
      "did not take this run's settings",
    );
    return dirs;
  }
  // Starting (or replacing) it is done by one run at a time: runs starting together in a fresh
  // workspace would otherwise remove each other's new gateway, or overwrite each other's settings.
  return withFileLock(dirs.root, { lockfilePath: join(dirs.root, 'start.lock') }, async () => {
    const now = await engine.inspect(name);
    if (now && serves(now)) return await handOver(now.id);
    const { listening } = await startNew(engine, opts, dirs, now?.id);
    return listening ? { ...dirs, listening } : dirs;
  });
}

async function startNew(
  engine: ContainerEngine,
  opts: GatewayOptions,
  dirs: GatewayDirs,
  stale: string | undefined,
): Promise<{ listening?: Promise<void> }> {
  const socket = join(dirs.sock, P.socketFile);
  await updateGatewaySettings(dirs, () => opts.settings);
  await mkdir(authRoot(), { recursive: true, mode: 0o700 });
  if (stale) await engine.remove(stale, { force: true }).catch(() => {});
  // A remote copy's readiness is "a socket is there" (no connect from here): a socket an earlier
  // gateway left (removed by force, or by the engine after it died) would pass for this one's.
  await engine.hostFolders?.remove(socket);
  let id: string;
  try {
    id = await engine.createContainer(gatewayContainerSpec(opts, dirs));
  } catch (e) {
    // Another corral in this workspace started it a moment ago: use that one.
    const raced = await engine.inspect(gatewayName(opts.settings.workspace));
    if (!raced) throw e;
    await waitReady(engine, raced.id, socket);
    return {};
  }
  await engine.startContainer(id);
  const listening = waitReady(engine, id, socket);
  // A remote engine's sandboxes reach its socket over another hop, and a cluster's gateway pod
  // may take longer than the relay waits (5 s) to be scheduled and started: they wait as before.
  if (!opts.early || engine.hostFolders || engine.kind === 'kubernetes') {
    await listening;
    return {};
  }
  listening.catch(() => {}); // awaited by the caller, after the sandbox starts
  // In an object: an async function returning the promise itself would wait for it.
  return { listening };
}

/**
 * A run holds a lease on its workspace's gateway from before it starts the gateway until its
 * sandbox is up (or gone), so a run ending at that moment does not stop the gateway under it.
 */
export async function takeLease(engine: GatewayEngine, workspaceId: string, session: string): Promise<void> {
  await lease.takeLease(gatewayDirs(engine, workspaceId).root, session);
}

/**
 * Drop this run's lease, and stop the gateway when nothing uses it any more: no running sandbox
 * in the workspace and no fresh lease. Detached sandboxes keep it; `corral stop` comes back here.
 * With `linger`, a gateway whose settings ask for a linger is left running: it exits by itself
 * once no sandbox has held a connection to it for that long, and the next run reuses it.
 */
export async function releaseGateway(
  engine: ContainerEngine,
  workspaceId: string,
  session?: string,
  /** A sandbox just stopped: the engine may list it as running a moment longer. */
  stopped?: string,
  opts: { linger?: boolean } = {},
): Promise<void> {
  const root = gatewayDirs(engine, workspaceId).root;
  if (session) await lease.dropLease(root, session);
  const [gw, settings] = await Promise.all([
    engine.inspect(gatewayName(workspaceId)),
    opts.linger ? readGatewaySettings(engine, workspaceId).catch(() => undefined) : undefined,
  ]);
  if (!gw) return;
  // A running gateway that lingers stays whoever else uses it: no need to ask (an engine list,
  // 5–30 ms on Podman, after every run's exit).
  if (opts.linger && gw.running && (settings?.lingerSeconds ?? 0) > 0) return;
  if (await lease.gatewayInUse(engine, root, workspaceId, stopped ? { stopped } : {})) return;
  await removeGateway(engine, workspaceId, gw.id);
}

/** Stop and remove the workspace's gateway, if any. */
export async function stopGateway(engine: ContainerEngine, workspaceId: string): Promise<boolean> {
  const current = await engine.inspect(gatewayName(workspaceId));
  if (!current) return false;
  await removeGateway(engine, workspaceId, current.id);
  return true;
}

/**
 * Remove the gateway container and its socket: a gateway removed by force has no chance to unlink
 * it, and the file would stay in the folder. Under the start lock, so a gateway another run is
 * starting at this moment keeps its new socket; one that still accepts connections is kept too.
 */
async function removeGateway(engine: ContainerEngine, workspaceId: string, id: string): Promise<void> {
  await engine.remove(id, { force: true }).catch(() => {});
  const dirs = gatewayDirs(engine, workspaceId);
  const socket = join(dirs.sock, P.socketFile);
  await withFileLock(
    dirs.root,
    { lockfilePath: join(dirs.root, 'start.lock'), patience: 'short' },
    async () => {
      if (!(await socketAccepts(socket))) await rm(socket, { force: true });
    },
  ).catch(() => {});
}
