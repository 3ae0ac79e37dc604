/**
 * Reading a login file straight from a state volume's folder on this machine, when the engine is
 * local and this user may read it: about 2–50 ms (one volume inspect) against 35–370 ms for the
 * engine's archive of the exited sandbox on Podman, which a run's exit used to wait for.
 *
 * The volume is the agent's to write, so nothing in it is followed: each folder is opened with
 * O_NOFOLLOW through the one before it (`/proc/self/fd/<fd>/<name>`, an openat(2) in Node's
 * clothes), and the file must be a regular file, not a link. Anything unexpected (no such engine
 * support, not Linux, not allowed, a link, too big) answers "cannot tell" and the caller asks the
 * engine instead, as before.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { ContainerEngine } from '../engine/index.js';

const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
/** Login files are a few KiB; a bigger one is not a login (and not read into memory). */
const LIMIT = 256 * 1024;

/** `{ text }` (undefined: no such file), or undefined when it cannot be read from the host. */
export async function readVolumeFileOnHost(
  engine: ContainerEngine,
  volume: string,
  rel: string,
): Promise<{ text: string | undefined } | undefined> {
  // A remote engine's socket is local too (forwarded), but its Mountpoint names a folder on that
  // machine: the same path here may hold this machine's own login.
  if (process.platform !== 'linux' || engine.remote || !engine.volumePath) return undefined;
  const parts = rel.split('/').filter(Boolean);
  if (!parts.length || parts.some((p) => p === '.' || p === '..')) return undefined;
  const root = await engine.volumePath(volume).catch(() => undefined);
  if (!root) return undefined;
  // The volume's own folder missing here (an engine in a VM answering on a local socket) says nothing.
  let dir: FileHandle | undefined = await open(root, O_RDONLY | O_DIRECTORY).catch(() => undefined);
  if (!dir) return undefined;
  try {
    for (const p of parts.slice(0, -1)) {
      const next: FileHandle = await open(
        `/proc/self/fd/${dir.fd}/${p}`,
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
      );
      await dir.close();
      dir = next;
    }
    // O_NONBLOCK: a FIFO the agent put there opens at once (and is refused below) instead of
    // hanging the run's exit.
    const file = await open(`/proc/self/fd/${dir.fd}/${parts.at(-1)}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      const st = await file.stat();
      if (!st.isFile() || st.size > LIMIT) return undefined;
      return { text: await file.readFile('utf8') };
    } finally {
      await file.close();
    }
  } catch (e) {
    // Missing (the folder or the file): the agent made no login. Anything else: ask the engine.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { text: undefined } : undefined;
  } finally {
    await dir?.close().catch(() => {});
  }
}
