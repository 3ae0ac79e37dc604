/**
 * Rootful Podman as root: under runc a per-container user namespace maps the sandbox user (1000)
 * onto host uid 0, so the workspace's home and mask volumes hold host-root-owned files. gVisor
 * cannot start in such a namespace (isolation.ts): there the sandbox user is host uid 1000. The
 * same volumes then belong to the wrong host uid after a switch of level (the agent cannot write
 * its own home). So a start on another level than the volumes' last one hands them over first:
 * `chown -R` in a throwaway runc container without a user namespace (host ids), once per switch,
 * remembered per volume in corral's data dir.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { ContainerEngine, Isolation } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import type { UserPlan } from '../workspace/userns.js';

const recordPath = () => dataFile('volume-owners.json');

/** The host uid:gid the sandbox user's files have on a level, when it differs between levels. */
function hostOwner(isolation: Isolation, user: UserPlan): string {
  return isolation === 'runc' ? '0:0' : user.user;
}

export async function alignVolumeOwners(
  engine: ContainerEngine,
  ws: Workspace,
  volumes: string[],
  image: string,
  isolation: Isolation,
  user: UserPlan,
): Promise<void> {
  // Only rootful Podman as root maps per container; elsewhere both levels see the same host uid.
  if (engine.kind !== 'podman' || engine.rootless || process.getuid?.() !== 0) return;
  const record = (await readJson<Record<string, Isolation>>(recordPath())) as Record<string, Isolation>;
  // A volume with no record was made before levels existed, or fresh: runc's owner either way.
  const stale = volumes.filter((v) => (record[v] ?? 'runc') !== isolation);
  if (!stale.length) return;
  const id = await engine.createContainer({
    name: `corral-${ws.id}-chown-${Date.now().toString(36)}`,
    image,
    cmd: ['chown', '-R', hostOwner(isolation, user), ...stale.map((_, i) => `/v/${i}`)],
    env: {},
    labels: { [LABELS.managed]: 'true', [LABELS.workspace]: ws.id, [LABELS.role]: 'mask-init' },
    user: '0:0',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: stale.map((v, i) => ({ type: 'volume' as const, source: v, target: `/v/${i}` })),
    capDrop: ['ALL'],
    capAdd: ['CHOWN', 'DAC_READ_SEARCH'],
    noNewPrivileges: true,
    network: 'none',
  });
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    if (code !== 0)
      throw new CorralError(
        'ENGINE_ERROR',
        `Handing the workspace's volumes over to --isolation ${isolation} failed (chown exited ${code}).`,
      );
  } finally {
    await engine.remove(id, { force: true }).catch(() => undefined);
  }
  for (const v of stale) record[v] = isolation;
  await writeJson(recordPath(), record);
}
