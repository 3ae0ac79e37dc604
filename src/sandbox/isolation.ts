/**
 * Which isolation level a sandbox gets, and what it changes about who the agent is.
 */
import type { Config } from '../config/schema.js';
import type { Isolation } from '../engine/index.js';
import { SANDBOX_UID } from '../images/recipes.js';
import type { HostUser, UserPlan } from '../workspace/userns.js';

/** --isolation, then agents.<name>.isolation, then `isolation` (config, project, CORRAL_ISOLATION). */
export function isolationFor(config: Config, agent: string, flag?: Isolation): Isolation {
  return flag ?? config.agents[agent]?.isolation ?? config.isolation;
}

/**
 * gVisor (the 2022 runsc Debian ships) cannot start inside a per-container user namespace: its
 * sandbox process becomes a non-root id there and fails to set up its chroot ("error converting
 * mounts: operation not permitted"). Without the mapping, the agent runs as in Docker: uid 1000
 * with the workspace shared through ACLs and handed back to a root host user afterwards, or as
 * the host user's own uid:gid. gVisor's own kernel stands between that uid and the host's.
 *
 * gVisor checks file permissions itself, from the mode bits, and ignores POSIX ACLs. The ACL grant
 * still works through its mask, which `stat` shows as the group bits: as root's group (gid 0) the
 * agent gets exactly what the grant gave uid 1000 (and its files come out root-group owned).
 */
export function userForIsolation(plan: UserPlan, isolation: Isolation, host: HostUser): UserPlan {
  if (isolation === 'runc') return plan;
  if (host.uid === 0 && (plan.idMappings || plan.reclaimTo))
    return { user: `${SANDBOX_UID}:${host.gid}`, reclaimTo: host };
  if (plan.idMappings) return { user: `${host.uid}:${host.gid}` };
  return plan;
}
