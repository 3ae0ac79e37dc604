/**
 * Docker with a root host user. Docker has no per-container uid mapping, and the agent must not be
 * root, so it runs as uid 1000. For the session corral grants uid 1000 access to the workspace
 * with POSIX ACLs (a root-owned checkout is otherwise read-only to it); when the session ends it
 * hands the files the sandbox user created back to root and removes the ACL entries again. Only
 * files owned by the sandbox uid and changed since the session started change owner, so a real
 * host user 1000's older files keep theirs.
 */
import { execFile } from 'node:child_process';
import { lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CorralError } from '../errors.js';
import { SANDBOX_UID } from '../images/recipes.js';
import type { HostUser } from '../workspace/userns.js';

const run = promisify(execFile);

/** Returns whether the tree had extended ACLs of its own before (then revoking must be surgical). */
export async function grantWorkspace(root: string): Promise<boolean> {
  const entry = `u:${SANDBOX_UID}:rwX`;
  try {
    const { stdout } = await run('getfacl', ['-R', '-p', '--skip-base', root], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const hadAcls = stdout.trim().length > 0;
    await run('setfacl', ['-R', '-m', entry, '-m', `d:${entry}`, root], { maxBuffer: 16 * 1024 * 1024 });
    return hadAcls;
  } catch (e) {
    const enoent = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CorralError(
      'WORKSPACE_INVALID',
      enoent
        ? 'Docker as root needs setfacl to let the (non-root) agent write the workspace, and it is not installed.'
        : `Could not grant the sandbox user access to ${root}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`,
      enoent
        ? 'Install it: sudo apt-get install -y acl (or use Podman, which maps users per container).'
        : 'Use a filesystem with POSIX ACLs, or Podman.',
    );
  }
}

/** Drop corral's entries: all extended ACLs if the tree had none before, else only uid 1000's. */
export async function revokeWorkspace(root: string, hadAcls: boolean): Promise<void> {
  const args = hadAcls
    ? ['-R', '-x', `u:${SANDBOX_UID}`, '-x', `d:u:${SANDBOX_UID}`, root]
    : ['-R', '-b', root];
  await run('setfacl', args, { maxBuffer: 16 * 1024 * 1024 }).catch(() => undefined);
}

export async function reclaimOwnership(
  root: string,
  to: HostUser,
  sinceMs: number,
  hadAcls = true,
): Promise<number> {
  let changed = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.uid === SANDBOX_UID && st.ctimeMs >= sinceMs) {
      await lchown(path, to.uid, to.gid).catch(() => undefined);
      changed++;
    }
    if (st.isDirectory()) {
      const entries = await readdir(path).catch(() => [] as string[]);
      for (const e of entries) await visit(join(path, e));
    }
  };
  await visit(root);
  await revokeWorkspace(root, hadAcls);
  return changed;
}
