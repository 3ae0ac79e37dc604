/**
 * Files under the workspace, written and read by a host process while the sandbox can change the
 * same tree at any moment. The agent may plant a symlink (or swap a directory for one between our
 * check and our use) to make corral write or read outside the workspace, so:
 * - every directory is opened without following symlinks and checked to be a real directory whose
 *   real path is still inside the workspace;
 * - on Linux, the next component is reached through `/proc/self/fd/<dir fd>/<name>`, which resolves
 *   through the directory we already verified (an openat(2) in Node's clothes), so renaming or
 *   swapping path components afterwards cannot redirect us;
 * - files are created with O_CREAT|O_EXCL|O_NOFOLLOW (never an existing file, never a link), and read
 *   with O_NOFOLLOW plus a regular-file check.
 * Elsewhere (macOS) the same checks run on plain paths: best effort, with a race window left open.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { CorralError } from '../errors.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

const PROC_FD = process.platform === 'linux';

/** A verified directory inside the workspace; keep it open while files are made in it. */
export interface SafeDir {
  /** Real path when verified (for messages only: never reopen by this path). */
  readonly path: string;
  /** Path that reaches the verified directory itself (for readdir). */
  readonly here: string;
  /** Path that reaches a child through the verified directory itself. */
  child(name: string): string;
  close(): Promise<void>;
}

function escapes(root: string, real: string): boolean {
  return real !== root && !real.startsWith(root + sep);
}

function outside(what: string): CorralError {
  return new CorralError(
    'WORKSPACE_INVALID',
    `Refusing to use ${what}: it is a symlink or lies outside the workspace.`,
    'Remove the planted link under .corral in the workspace; corral recreates the folders itself.',
  );
}

function checkName(name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new CorralError('BAD_INPUT', `Invalid path component ${JSON.stringify(name)}.`);
  }
  return name;
}

async function verifyDirFd(root: string, handle: FileHandle, shown: string): Promise<string> {
  const st = await handle.stat();
  if (!st.isDirectory()) throw outside(shown);
  const real = await readlink(`/proc/self/fd/${handle.fd}`);
  if (escapes(root, real)) throw outside(shown);
  return real;
}

async function verifyDirPath(root: string, path: string, shown: string): Promise<string> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch {
    throw outside(shown);
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw outside(shown);
  const real = await realpath(path);
  if (escapes(root, real)) throw outside(shown);
  return real;
}

const ignoreExists = (e: unknown) => {
  if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
};

/**
 * How to treat missing folders: `open` needs them all, `create` makes missing ones, `fresh` also
 * requires the last one to be new (so nothing the agent prepared in it can be there).
 */
export type DirMode = 'open' | 'create' | 'fresh';

/**
 * Open `root/…parts` as a verified directory. `root` must be the workspace's real path; each part
 * is one plain name.
 */
export async function openSafeDir(root: string, parts: string[], mode: DirMode = 'create'): Promise<SafeDir> {
  const create = mode !== 'open';
  const mk = (path: string, last: boolean) =>
    create
      ? mkdir(path, { mode: 0o755 }).catch(last && mode === 'fresh' ? undefined : ignoreExists)
      : undefined;
  for (const p of parts) checkName(p);
  const shown = join(root, ...parts);
  if (!PROC_FD) {
    let path = root;
    for (const [i, p] of parts.entries()) {
      path = join(path, p);
      await mk(path, i === parts.length - 1);
      await verifyDirPath(root, path, shown);
    }
    const real = await verifyDirPath(root, path, shown);
    return {
      path: real,
      here: real,
      child: (name) => join(real, checkName(name)),
      close: async () => {},
    };
  }
  let dir = await open(root, O_RDONLY | O_DIRECTORY);
  try {
    for (const [i, p] of parts.entries()) {
      const next = `/proc/self/fd/${dir.fd}/${p}`;
      await mk(next, i === parts.length - 1);
      let handle: FileHandle;
      try {
        // O_NOFOLLOW: a planted symlink fails with ELOOP instead of being followed.
        handle = await open(next, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && !create) throw e;
        throw outside(shown);
      }
      await dir.close();
      dir = handle;
      await verifyDirFd(root, dir, shown);
    }
    const real = await verifyDirFd(root, dir, shown);
    const held = dir;
    return {
      path: real,
      here: `/proc/self/fd/${held.fd}`,
      child: (name) => `/proc/self/fd/${held.fd}/${checkName(name)}`,
      close: () => held.close(),
    };
  } catch (e) {
    await dir.close().catch(() => {});
    throw e;
  }
}

/** A new file that did not exist before and is not a link (fails with EEXIST otherwise). */
export async function createExclusive(dir: SafeDir, name: string, mode = 0o644): Promise<FileHandle> {
  return open(dir.child(name), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
}

/** Write a whole new file in one go. */
export async function writeExclusive(dir: SafeDir, name: string, text: string): Promise<void> {
  const handle = await createExclusive(dir, name);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Read at most `limit` bytes of a regular file without following a link: the agent controls these
 * files, and a link to a host secret must not be read back to it.
 */
export async function readNoFollow(dir: SafeDir, name: string, limit = 4096): Promise<string | undefined> {
  return (await readBytesNoFollow(dir, name, limit))?.toString('utf8');
}

/** Up to `limit` bytes from `position` of a regular file in `dir`, never through a link. */
export async function readBytesNoFollow(
  dir: SafeDir,
  name: string,
  limit: number,
  position = 0,
): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(dir.child(name), O_RDONLY | O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buf = Buffer.alloc(limit);
    const { bytesRead } = await handle.read(buf, 0, limit, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The last `maxBytes` of an open file, read by position so a writer sharing it is not disturbed. */
export async function readTail(handle: FileHandle, maxBytes: number): Promise<string> {
  const { size } = await handle.stat();
  const start = Math.max(0, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  const { bytesRead } = await handle.read(buf, 0, buf.length, start);
  let text = buf.subarray(0, bytesRead).toString('utf8');
  // A cut in the middle of the file leaves a partial first line: drop it.
  if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  return text;
}
