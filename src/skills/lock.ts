/**
 * The skills lockfile: what `corral skills add` installed, pinned by the commit it resolved and a
 * hash of the skill's files, in corral's data folder beside the copies it installs from. Sandboxes
 * read it at start; `corral skills sync` rebuilds the copies from it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorralError } from '../errors.js';

export interface LockedSkill {
  /** The folder name under the agent's skills folder. */
  name: string;
  /** A git URL, or an absolute local path (a git repository or a plain folder). */
  source: string;
  /** The ref asked for (`#ref`); absent: the default branch. */
  ref?: string;
  /** The commit it resolved to; absent for a plain folder. */
  commit?: string;
  /** The skill's folder within the source ('' for the root). */
  path: string;
  /** sha256 over the skill's files (paths, modes, contents). */
  hash: string;
  /** The agents it is installed for; `*`: every agent with a skills folder. */
  agents: string[];
}

export interface SkillsLock {
  version: 1;
  skills: LockedSkill[];
}

export const skillsRoot = (env: NodeJS.ProcessEnv, fallback: string): string =>
  join(env.CORRAL_DATA_DIR ?? fallback, 'skills');
export const lockPath = (root: string) => join(root, 'skills.lock.json');
/** One read-only copy per skill content, mounted into sandboxes. */
export const storeDir = (root: string) => join(root, 'store');
export const storeName = (s: Pick<LockedSkill, 'name' | 'hash'>) => `${s.name}-${s.hash.slice(0, 16)}`;

export async function readLock(root: string): Promise<SkillsLock> {
  let text: string;
  try {
    text = await readFile(lockPath(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, skills: [] };
    throw e;
  }
  try {
    const lock = JSON.parse(text) as SkillsLock;
    if (lock.version !== 1 || !Array.isArray(lock.skills)) throw new Error('unknown shape');
    return lock;
  } catch (e) {
    throw new CorralError(
      'CONFIG_INVALID',
      `The skills lockfile ${lockPath(root)} is not readable: ${(e as Error).message}.`,
      'Fix or delete it, then `corral skills add` the skills again.',
    );
  }
}

export async function writeLock(root: string, lock: SkillsLock): Promise<void> {
  await mkdir(root, { recursive: true });
  const sorted = { ...lock, skills: [...lock.skills].sort((a, b) => a.name.localeCompare(b.name)) };
  const tmp = `${lockPath(root)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
  await rename(tmp, lockPath(root));
}
