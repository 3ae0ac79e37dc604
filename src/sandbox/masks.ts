/**
 * Masks: a per-workspace volume shadows `<workspace>/<dir>` inside the sandbox, so build output
 * and dependencies (node_modules, target, .venv) stay out of the host folder — and host-built
 * native modules stay out of the sandbox.
 */
import { mkdir } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { ContainerEngine, Mount } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { WORKSPACE_DIR } from '../images/recipes.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import type { UserPlan } from '../workspace/userns.js';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

export function validateMaskDir(dir: string): string {
  const clean = normalize(dir).replace(/\/+$/, '');
  const segments = clean.split('/');
  if (!clean || clean.startsWith('/') || segments.some((s) => s === '..' || s === '.' || !SEGMENT.test(s))) {
    throw new CorralError(
      'BAD_INPUT',
      `Cannot mask "${dir}".`,
      'Name a folder inside the workspace, e.g. node_modules or target.',
    );
  }
  if (segments[0] === '.git')
    throw new CorralError('BAD_INPUT', 'Masking .git would hide the repository from the agent.');
  return clean;
}

export function maskVolumeName(ws: Workspace, dir: string): string {
  return `corral-${ws.id}-mask-${dir.replace(/[/.]/g, '_')}`;
}

const masksPath = () => dataFile('masks.json');

export async function readMasks(ws: Workspace): Promise<string[]> {
  return (await readJson<Record<string, string[]>>(masksPath()))[ws.path] ?? [];
}

export async function updateMasks(ws: Workspace, change: (dirs: string[]) => string[]): Promise<string[]> {
  const all = (await readJson<Record<string, string[]>>(masksPath())) as Record<string, string[]>;
  const next = [...new Set(change(all[ws.path] ?? []))].sort();
  if (next.length) all[ws.path] = next;
  else delete all[ws.path];
  await writeJson(masksPath(), all);
  return next;
}

export function maskMounts(ws: Workspace, dirs: string[]): Mount[] {
  return dirs.map((d) => ({
    type: 'volume',
    source: maskVolumeName(ws, d),
    target: `${WORKSPACE_DIR}/${d}`,
  }));
}

/**
 * Create a volume unless it exists; returns whether this call made it. A run and the daemon's warm
 * pool refilling the same workspace create the same volumes at the same moment: the one that loses
 * (Podman: "volume already exists") finds it there and goes on.
 */
export async function ensureVolume(
  engine: ContainerEngine,
  name: string,
  labels: Record<string, string>,
): Promise<boolean> {
  if (await engine.volumeExists(name)) return false;
  try {
    await engine.createVolume(name, labels);
    return true;
  } catch (e) {
    if (await engine.volumeExists(name).catch(() => false)) return false;
    throw e;
  }
}

/**
 * Create missing mask volumes and give them to the sandbox user: a new volume belongs to root,
 * so a one-shot container (root inside, with only CHOWN) hands it over, once.
 */
export async function ensureMaskVolumes(
  engine: ContainerEngine,
  ws: Workspace,
  dirs: string[],
  image: string,
  user: UserPlan,
): Promise<void> {
  const fresh: string[] = [];
  for (const d of dirs) {
    // Make the mount point as the invoking user, or the engine makes it as root in their repo.
    await mkdir(join(ws.path, d), { recursive: true });
    const name = maskVolumeName(ws, d);
    const made = await ensureVolume(engine, name, {
      [LABELS.managed]: 'true',
      [LABELS.workspace]: ws.id,
      [LABELS.role]: 'mask',
    });
    if (made) fresh.push(name);
  }
  if (!fresh.length) return;
  const id = await engine.createContainer({
    name: `corral-${ws.id}-maskinit-${Date.now().toString(36)}`,
    image,
    cmd: ['chown', user.user, ...fresh.map((_, i) => `/m/${i}`)],
    env: {},
    labels: { [LABELS.managed]: 'true', [LABELS.workspace]: ws.id, [LABELS.role]: 'mask-init' },
    user: '0:0',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: fresh.map((v, i) => ({ type: 'volume', source: v, target: `/m/${i}` })),
    capDrop: ['ALL'],
    capAdd: ['CHOWN'],
    noNewPrivileges: true,
    ...(user.idMappings ? { idMappings: user.idMappings } : {}),
    ...(user.keepId ? { keepId: user.keepId } : {}),
  });
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    if (code !== 0)
      throw new CorralError('ENGINE_ERROR', `Preparing the mask volumes failed (chown exited ${code}).`);
  } finally {
    await engine.remove(id, { force: true });
  }
}
