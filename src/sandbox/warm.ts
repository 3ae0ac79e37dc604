/**
 * Warm sandboxes: created and set up (volumes, ownership, Podman's runtime) but not started, so a
 * run that takes one only starts and attaches it. A container's command, env and labels are fixed
 * at create, while a run's argv (its prompt), files (bridge token, login placeholder) and session
 * are its own: a warm container therefore runs a launcher that sources a script the taker writes
 * into a folder mounted read-only into that container alone, just before the start. Everything
 * else must equal what a cold start of the same run would create: `warmKey` hashes the cold
 * create spec with only those per-run parts left out, and a take compares hashes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corralPaths } from '../config/paths.js';
import { shellQuote } from '../engine/command-line.js';
import type { ContainerEngine, ContainerSpec, ContainerSummary } from '../engine/index.js';
import { homeVolumeLabels, homeVolumeName, LABELS } from '../workspace/identity.js';
import { ensureMaskVolumes, ensureVolume, maskVolumeName } from './masks.js';
import { owned } from './orphans.js';
import { type SandboxSpec, toContainerSpec } from './spec.js';
import { alignVolumeOwners } from './volume-owners.js';

/** The label a warm container carries: the key of the create spec it was made from. */
export const WARM_LABEL = 'io.corral.warm';
/** Warm containers are named so until taken (then renamed to the run's name). */
export const WARM_PREFIX = 'corral-warm-';
const LAUNCH_IN = '/run/corral/launch';
const LAUNCH_FILE = 'run.sh';
/** Env that carries a run's files (spec.ts wrapCommand): per run, so in the launch script. */
const PER_RUN_ENV = /^CORRAL_FILE_\d+$/;

/** A warm container handed to a run. */
export interface WarmTaken {
  id: string;
  /** The session its labels carry: the run adopts it. */
  session: string;
  key: string;
  launchDir: string;
  /** Its credential placeholders by env key: the run's credentials take these. */
  placeholders: Record<string, string>;
}

/** Where warm containers' launch folders live (one per container; 0700 above them). */
export const warmRoot = (): string => join(process.env.CORRAL_DATA_DIR ?? corralPaths.data, 'warm');

/** The env keys holding the gateway's credential placeholders (random per run), and their values. */
export function placeholderEnv(spec: SandboxSpec): Record<string, string> {
  const ph = new Set(spec.credentials.map((c) => c.placeholder));
  return Object.fromEntries(Object.entries(spec.env).filter(([, v]) => ph.has(v)));
}

/**
 * The create spec's hash, leaving out the per-run parts: name, command, session, maker, file env,
 * and the values (not the names) of credential placeholders, which a taking run adopts.
 */
export function warmKey(cs: ContainerSpec, placeholders: Record<string, string> = {}): string {
  const { name: _n, cmd: _c, labels, env, ...rest } = cs;
  const {
    [LABELS.session]: _s,
    [LABELS.ownerPid]: _o,
    [WARM_LABEL]: _w,
    ...stableLabels
  } = labels as Record<string, string>;
  const stableEnv = Object.fromEntries(
    Object.entries(env)
      .filter(([k]) => !PER_RUN_ENV.test(k))
      .map(([k, v]) => [k, placeholders[k] === v ? '(placeholder)' : v]),
  );
  return createHash('sha256')
    .update(stableJson({ ...rest, labels: stableLabels, env: stableEnv }))
    .digest('hex');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Not yet taken: never shown or handled as a sandbox. */
export const isIdleWarm = (c: Pick<ContainerSummary, 'name' | 'labels'>): boolean =>
  Boolean(c.labels[WARM_LABEL]) && c.name.replace(/^\//, '').startsWith(WARM_PREFIX);

/**
 * Create a warm container for runs planned like `spec` (its argv and files are ignored: each
 * run brings its own). Returns it with its session; the caller owns removing it.
 */
export async function createWarm(engine: ContainerEngine, spec: SandboxSpec, session: string) {
  const s: SandboxSpec = { ...spec, session, files: {} };
  const cold = toContainerSpec(s);
  const placeholders = placeholderEnv(s);
  const key = warmKey(cold, placeholders);
  const name = `${WARM_PREFIX}${spec.workspace.id}-${spec.agent}-${randomBytes(4).toString('hex')}`;
  await mkdir(warmRoot(), { recursive: true, mode: 0o700 });
  await chmod(warmRoot(), 0o700);
  const launchDir = join(warmRoot(), name);
  // Readable by the sandbox's user (another uid on Docker); the 0700 parent keeps others out.
  await mkdir(launchDir, { mode: 0o755 });
  await chmod(launchDir, 0o755);
  await ensureMaskVolumes(engine, s.workspace, s.masks, s.image, s.user);
  const volume = homeVolumeName(s.workspace, s.agent, s.profile);
  await ensureVolume(engine, volume, homeVolumeLabels(s.workspace, s.agent, s.profile));
  const masks = s.masks.map((d) => maskVolumeName(s.workspace, d));
  await alignVolumeOwners(engine, s.workspace, [volume, ...masks], s.image, s.isolation, s.user);
  const spec2: ContainerSpec = owned({
    ...cold,
    name,
    cmd: ['/bin/sh', '-c', `. ${LAUNCH_IN}/${LAUNCH_FILE}`],
    env: Object.fromEntries(Object.entries(cold.env).filter(([k]) => !PER_RUN_ENV.test(k))),
    labels: { ...cold.labels, [WARM_LABEL]: key.slice(0, 32) },
    mounts: [...cold.mounts, { type: 'bind', source: launchDir, target: LAUNCH_IN, readOnly: true }],
  });
  let id: string;
  try {
    id = await engine.createContainer(spec2);
  } catch (e) {
    await rm(launchDir, { recursive: true, force: true });
    throw e;
  }
  // Which container the folder serves, for the sweep once that container is gone.
  await writeFile(join(launchDir, '.id'), id);
  // Podman sets up the runtime now rather than at the run's start (not all engines can).
  await engine.init?.(id).catch(() => undefined);
  return { id, name, key, session, launchDir, placeholders };
}

/**
 * Make a taken warm container this run's: its launch script (the run's argv, files and prologue,
 * from the cold create spec) written, and its name the run's. False when the container no longer
 * fits (then the caller removes it and creates cold).
 */
export async function claimWarm(
  engine: ContainerEngine,
  warm: WarmTaken,
  cold: ContainerSpec,
  placeholders: Record<string, string>,
): Promise<boolean> {
  if (warmKey(cold, placeholders) !== warm.key) return false;
  const exports = Object.entries(cold.env)
    .filter(([k]) => PER_RUN_ENV.test(k))
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  const script = [...exports, `exec ${cold.cmd.map(shellQuote).join(' ')}`, ''].join('\n');
  await writeFile(join(warm.launchDir, LAUNCH_FILE), script, { mode: 0o644 });
  await engine.rename?.(warm.id, cold.name);
  return true;
}

/** The launch folder of a warm container (after its run, or when it is discarded). */
export async function removeLaunchDir(launchDir: string): Promise<void> {
  if (!launchDir.startsWith(warmRoot())) return;
  await rm(launchDir, { recursive: true, force: true });
}

/** Every idle warm container (of one workspace, when given), and their launch folders. */
export async function removeIdleWarm(
  engine: ContainerEngine,
  workspaceId?: string,
  only: (c: ContainerSummary) => boolean = () => true,
): Promise<string[]> {
  const labels = [`${LABELS.managed}=true`, ...(workspaceId ? [`${LABELS.workspace}=${workspaceId}`] : [])];
  const idle = (await engine.list({ labels, all: true }).catch(() => [])).filter(
    (c) => isIdleWarm(c) && only(c),
  );
  await Promise.all(
    idle.map(async (c) => {
      await engine.remove(c.id, { force: true }).catch(() => undefined);
      await removeLaunchDir(join(warmRoot(), c.name.replace(/^\//, '')));
    }),
  );
  return idle.map((c) => c.name);
}

/** `corral clean`: the launch folders of a workspace's warm sandboxes (the containers go by label). */
export async function removeWorkspaceLaunchDirs(workspaceId: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(warmRoot()).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`${WARM_PREFIX}${workspaceId}-`))
      .map((n) => rm(join(warmRoot(), n), { recursive: true, force: true })),
  );
}

/** Launch folders whose container is gone (a detached run that ended; a `clean`). */
export async function sweepLaunchDirs(engine: ContainerEngine): Promise<void> {
  const { readFile, readdir } = await import('node:fs/promises');
  const names = await readdir(warmRoot()).catch(() => [] as string[]);
  if (!names.length) return;
  const live = new Set((await engine.list({ labels: [WARM_LABEL], all: true })).map((c) => c.id));
  for (const n of names.filter((x) => x.startsWith(WARM_PREFIX))) {
    const id = await readFile(join(warmRoot(), n, '.id'), 'utf8').catch(() => '');
    if (id && !live.has(id)) await rm(join(warmRoot(), n), { recursive: true, force: true });
  }
}

/** A run takes `warm`: its session, and its placeholders for the same credentials. */
export function adoptWarm(spec: SandboxSpec, warm: WarmTaken): void {
  spec.session = warm.session;
  spec.warm = warm;
  const mine = placeholderEnv(spec);
  for (const [k, theirs] of Object.entries(warm.placeholders)) {
    const c = spec.credentials.find((x) => x.placeholder === mine[k]);
    if (!c) continue;
    c.placeholder = theirs;
    spec.env = { ...spec.env, [k]: theirs };
  }
}
