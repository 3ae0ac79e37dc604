/**
 * Host folders a container shares with corral live (the gateway's), when the engine's containers
 * see copies of them rather than the folders (a remote engine, Kubernetes without node folders).
 * Paths are files directly inside a bind-mounted folder, named by their path on this machine.
 */
export interface HostFolders {
  /** Send what corral changed in this folder to the engine's copy. */
  push(dir: string): Promise<void>;
  /** A file a container wrote in the copy (from byte `from` on, at most `max` bytes); undefined if missing. */
  read(path: string, from?: number, max?: number): Promise<string | undefined>;
  /** The size in bytes of a file in the copy; undefined if missing (where a follower starts). */
  size(path: string): Promise<number | undefined>;
  /** Rewrite, in place, the copy of a file containers bind-mount by itself (not a folder's file). */
  rewriteMounted(path: string, content: Buffer): Promise<void>;
  /** Remove a file (or socket) from the copy, if it is there. */
  remove(path: string): Promise<void>;
  /**
   * Remove the engine's copies of these host paths (folders or files corral bind-mounted) and
   * what it kept here about them: `corral clean` (the gateway's settings hold real keys).
   */
  removeCopies?(paths: string[]): Promise<void>;
  /** Is there a unix socket at this path in the copy (a container listens there)? */
  socketReady(path: string): Promise<boolean>;
  /** Make a unix socket that corral listens on here reachable at this path in the copy. */
  serveSocket(path: string): Promise<() => Promise<void>>;
  /**
   * Listen on this machine's `hostIp:hostPort` and connect each client to the unix socket a
   * container serves at this path in the copy (a sandbox's published port); returns the undo.
   * Without it (Kubernetes), a relay container publishes the ports as on a local engine.
   */
  forwardPort?(hostIp: string, hostPort: number, path: string): Promise<() => Promise<void>>;
  /** Undo a forwardPort made by an earlier corral (a detached run's, at `corral stop`). */
  unforwardPort?(hostIp: string, hostPort: number, path: string): Promise<void>;
  /**
   * A unix socket on this machine that reaches the one a container serves at this path in the
   * copy (each connection made there anew), and its undo. Without it, the path itself is reachable.
   */
  reachSocket?(path: string): Promise<{ local: string; close(): Promise<void> }>;
  /** The commands (argv) forwardPort and its undo run, for `--dry-run` to print. */
  forwardPortCommands?(
    hostIp: string,
    hostPort: number,
    path: string,
  ): { forward: string[]; cancel: string[] };
}
