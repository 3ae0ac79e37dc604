/**
 * Reading and changing login files in a profile's state volume from the host, through helper
 * containers that mount only that volume. Reads need no start (the archive endpoint, ~0.1-0.3 s);
 * writes and removals run as the sandbox user, so the agent owns its files as if it wrote them.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileFromTar } from '../engine/archive.js';
import { shellQuote } from '../engine/command-line.js';
import type { ContainerEngine, ContainerSpec } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { SANDBOX_HOME } from '../images/recipes.js';
import { LABELS } from '../workspace/identity.js';
import { hostUser, planUser } from '../workspace/userns.js';

function helperSpec(
  engine: ContainerEngine,
  image: string,
  volume: string,
  cmd: string[],
  env: Record<string, string>,
): ContainerSpec {
  const user = planUser(engine, hostUser());
  return {
    name: `corral-auth-${randomBytes(5).toString('hex')}`,
    image,
    cmd,
    env,
    labels: { [LABELS.managed]: 'true', [LABELS.role]: 'auth' },
    user: user.user,
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [{ type: 'volume', source: volume, target: SANDBOX_HOME }],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    pidsLimit: 32,
    network: 'none',
    ...(user.idMappings ? { idMappings: user.idMappings } : {}),
    ...(user.keepId ? { keepId: user.keepId } : {}),
    autoRemove: false,
  };
}

/** The text of a file (relative to $HOME) in the volume, or undefined when it has none. */
export async function readVolumeFile(
  engine: ContainerEngine,
  image: string,
  volume: string,
  rel: string,
): Promise<string | undefined> {
  const id = await engine.createContainer(helperSpec(engine, image, volume, ['true'], {}));
  try {
    return await readHomeFile(engine, id, rel);
  } finally {
    await engine.remove(id, { force: true }).catch(() => {});
  }
}

async function runHelper(engine: ContainerEngine, spec: ContainerSpec): Promise<void> {
  const id = await engine.createContainer(spec);
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    if (code !== 0) {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const logs = await engine.logs(id, { tail: 5 });
      engine.demux(logs, out, out);
      await finished(logs).catch(() => {});
      throw new CorralError(
        'ENGINE_ERROR',
        `Could not change the login files in ${spec.mounts[0]?.source}: ${Buffer.concat(chunks).toString().trim() || `exit ${code}`}`,
        'Check the engine with `corral doctor`.',
      );
    }
  } finally {
    await engine.remove(id, { force: true }).catch(() => {});
  }
}

/** Write files (relative to $HOME, 0600) into the volume. Contents travel base64 in env vars. */
export async function writeVolumeFiles(
  engine: ContainerEngine,
  image: string,
  volume: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  const env: Record<string, string> = {};
  const lines = ['set -e', 'umask 077'];
  Object.entries(files).forEach(([rel, content], i) => {
    const path = `${SANDBOX_HOME}/${shellQuote(rel)}`;
    env[`CORRAL_FILE_${i}`] = Buffer.from(content).toString('base64');
    lines.push(`mkdir -p "$(dirname ${path})"`, `printf %s "$CORRAL_FILE_${i}" | base64 -d > ${path}`);
  });
  await runHelper(engine, helperSpec(engine, image, volume, ['/bin/sh', '-c', lines.join('\n')], env));
}

/** Remove files (relative to $HOME) from the volume; missing ones are fine. */
export async function removeVolumeFiles(
  engine: ContainerEngine,
  image: string,
  volume: string,
  rels: readonly string[],
): Promise<void> {
  if (!rels.length) return;
  const paths = rels.map((r) => `${SANDBOX_HOME}/${shellQuote(r)}`).join(' ');
  await runHelper(engine, helperSpec(engine, image, volume, ['/bin/sh', '-c', `rm -f ${paths}`], {}));
}

/**
 * The text of a file (relative to $HOME) in a created or stopped container that mounts a state
 * volume at the sandbox home, e.g. a sandbox that just exited: no helper container needed.
 */
export async function readHomeFile(
  engine: ContainerEngine,
  id: string,
  rel: string,
): Promise<string | undefined> {
  const tar = await engine.getArchive(id, posix.join(SANDBOX_HOME, rel));
  return tar ? (await fileFromTar(tar))?.toString() : undefined;
}
