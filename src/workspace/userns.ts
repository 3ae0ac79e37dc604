/**
 * Who the agent is inside, and who its files belong to outside. The agent never runs as uid 0 in
 * the sandbox; files it writes to the workspace should belong to the invoking host user.
 *
 * - Rootful Podman: a per-container user namespace maps the sandbox user (1000) onto the host
 *   user and shifts everything else out of the way, so even a root host user gets root-owned files
 *   from a non-root agent.
 * - Rootless Podman: `keep-id` maps the host user onto uid 1000 inside.
 * - Docker has no per-container user namespace (userns-remap is daemon-wide). For a non-root host
 *   user the agent runs as that uid:gid directly. For a root host user it runs as 1000, and corral
 *   hands the files it created back to root when the session ends (see ownership.ts).
 */
import type { ContainerEngine, IdMapping } from '../engine/index.js';
import { SANDBOX_UID } from '../images/recipes.js';

export interface HostUser {
  uid: number;
  gid: number;
}

export interface UserPlan {
  /** "uid:gid" the agent runs as inside. */
  user: string;
  idMappings?: { uid: IdMapping[]; gid: IdMapping[] };
  /** Podman's keep-id mode (rootless). */
  keepId?: { uid: number; gid: number };
  /** Files created as the sandbox uid must be handed back to this host user after the session. */
  reclaimTo?: HostUser;
}

export function hostUser(): HostUser {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

const MAPPED = 65001;

type Segment = [start: number, end: number];

/**
 * Container ids 0..65000 → host ids: the sandbox uid onto the host user, every other id onto host
 * ids 1..65001 in order, skipping the host user's. Host 0 is only ever the sandbox user's (when the
 * host user is root). This is the mapping DESIGN.md verified for root, generalised; Podman refuses
 * to mount image storage for mappings into unrelated high ranges.
 */
export function mapping(hostId: number): IdMapping[] {
  const containers: Segment[] = [
    [0, SANDBOX_UID],
    [SANDBOX_UID + 1, MAPPED],
  ];
  const hosts: Segment[] =
    hostId === 0 || hostId > MAPPED
      ? [[1, MAPPED]]
      : [
          [1, hostId],
          [hostId + 1, MAPPED + 1],
        ];
  const out: IdMapping[] = [{ containerId: SANDBOX_UID, hostId, size: 1 }];
  let ci = 0;
  let hi = 0;
  let c = containers[0]![0];
  let h = hosts[0]![0];
  while (ci < containers.length && hi < hosts.length) {
    const size = Math.min(containers[ci]![1] - c, hosts[hi]![1] - h);
    if (size > 0) out.push({ containerId: c, hostId: h, size });
    c += size;
    h += size;
    if (c >= containers[ci]![1] && ++ci < containers.length) c = containers[ci]![0];
    if (h >= hosts[hi]![1] && ++hi < hosts.length) h = hosts[hi]![0];
  }
  return out.sort((a, b) => a.containerId - b.containerId);
}

export function planUser(
  engine: Pick<ContainerEngine, 'kind' | 'rootless' | 'remote'>,
  host: HostUser,
): UserPlan {
  const inside = `${SANDBOX_UID}:${SANDBOX_UID}`;
  // On another machine the files are the remote copy's: this machine's user means nothing there.
  // Rootless Podman maps the remote user in; otherwise uid 1000 is granted the copy by the remote
  // engine (src/engine/remote/engine.ts), and nothing here is reclaimed.
  if (engine.remote) {
    return engine.kind === 'podman' && engine.rootless
      ? { user: inside, keepId: { uid: SANDBOX_UID, gid: SANDBOX_UID } }
      : { user: inside };
  }
  if (engine.kind === 'podman') {
    if (engine.rootless) return { user: inside, keepId: { uid: SANDBOX_UID, gid: SANDBOX_UID } };
    return { user: inside, idMappings: { uid: mapping(host.uid), gid: mapping(host.gid) } };
  }
  // A pod runs as uid 1000 like Docker as root: the hostPath workspace is granted by ACL and reclaimed.
  if (engine.kind === 'kubernetes') return { user: inside, reclaimTo: host };
  // Rootless Docker maps container uids onto the user's subuid range; only container root is the
  // user, and the agent must not be root. Files come out subuid-owned: documented, not hidden.
  if (engine.rootless) return { user: inside };
  if (host.uid === 0) return { user: inside, reclaimTo: host };
  return { user: `${host.uid}:${host.gid}` };
}
