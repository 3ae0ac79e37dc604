/** Small JSON state files (trust, update pins, masks): read leniently, written atomically. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { corralPaths } from './paths.js';

/** A file in corral's data folder (CORRAL_DATA_DIR overrides, for tests and portable setups). */
export const dataFile = (name: string): string => join(process.env.CORRAL_DATA_DIR ?? corralPaths.data, name);

/** A missing or corrupt file reads as empty: state must never stop corral from starting. */
export async function readJson<T extends object>(path: string): Promise<Partial<T>> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as T) : {};
  } catch {
    return {};
  }
}

/**
 * Write then rename: an interrupted write never leaves a half-written file. The temporary name is
 * unique per write, not just per process: one process may start several sandboxes at once (a
 * multi-agent session asks its agents in parallel), and two writes sharing one temporary file
 * made the second rename fail with ENOENT.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** A JSON state file, 0600, written atomically (its folder made if missing). */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
