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

/** Container ids 0..65535 → host: sandbox uid → the host id; the rest to a range nobody owns. */
function mapping(hostId: number): IdMapping[] {
  if (hostId === 0) {
    return [
      { containerId: 0, hostId: 1, size: SANDBOX_UID },
      { containerId: SANDBOX_UID, hostId: 0, size: 1 },
      { containerId: SANDBOX_UID + 1, hostId: SANDBOX_UID + 1, size: 64000 },
    ];
  }
  const base = 200_000;
  return [
    { containerId: 0, hostId: base, size: SANDBOX_UID },
    { containerId: SANDBOX_UID, hostId, size: 1 },
    { containerId: SANDBOX_UID + 1, hostId: base + SANDBOX_UID + 1, size: 64000 },
  ];
}

export function planUser(engine: Pick<ContainerEngine, 'kind' | 'rootless'>, host: HostUser): UserPlan {
  const inside = `${SANDBOX_UID}:${SANDBOX_UID}`;
  if (engine.kind === 'podman') {
    if (engine.rootless) return { user: inside, keepId: { uid: SANDBOX_UID, gid: SANDBOX_UID } };
    return { user: inside, idMappings: { uid: mapping(host.uid), gid: mapping(host.gid) } };
  }
  // Rootless Docker maps container uids onto the user's subuid range; only container root is the
  // user, and the agent must not be root. Files come out subuid-owned: documented, not hidden.
  if (engine.rootless) return { user: inside };
  if (host.uid === 0) return { user: inside, reclaimTo: host };
  return { user: `${host.uid}:${host.gid}` };
}
