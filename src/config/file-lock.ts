/**
 * One process at a time for a read-change-write of files that several corral processes share (the
 * install's CA, a workspace gateway's start and settings). proper-lockfile: a lock left by a
 * crashed process goes stale; a live one has its mtime refreshed.
 */
export interface FileLockOptions {
  /** The lock file (proper-lockfile makes it a folder). */
  lockfilePath: string;
  /** How long to keep trying, roughly, before giving up with the library's error. */
  patience?: 'short' | 'long';
}

/**
 * Run `fn` holding the lock. `target` names the lock inside this process: proper-lockfile keeps
 * its locks by target path, so two locks held at once (even with other lock files) need two targets.
 */
export async function withFileLock<T>(
  target: string,
  opts: FileLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: commands that take no lock should not pay for it.
  const { lock } = (await import('proper-lockfile')).default;
  const release = await lock(target, {
    realpath: false,
    lockfilePath: opts.lockfilePath,
    stale: 30_000,
    retries:
      opts.patience === 'short'
        ? { retries: 200, minTimeout: 10, maxTimeout: 50 }
        : { retries: 400, minTimeout: 25, maxTimeout: 100 },
    // The default throws from a timer, which would take a long-lived process down. A lock is only
    // lost when this process stalled past `stale`.
    onCompromised: () => {},
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}
