/** Small JSON state files (trust, update pins, masks): read leniently, written atomically. */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { diskFull } from '../errors.js';
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
 * Write a temporary file, flush it to disk, then rename it over the file: an interrupted write (a
 * kill, a crash, a full disk) never leaves a half-written file, only the previous one. On failure the
 * temporary file is removed (it would otherwise hold the little space left) and a full disk becomes
 * a DISK_FULL error naming the file.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    const file = await open(tmp, 'w', mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw diskFull(e, path) ?? e;
  }
  await dropStaleTemporaries(path);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Temporary files of this file left by a process killed mid-write (its pid is gone). */
async function dropStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid))
      await unlink(join(dirname(path), name)).catch(() => {});
  }
}

/** A JSON state file, 0600, written atomically (its folder made if missing). */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
