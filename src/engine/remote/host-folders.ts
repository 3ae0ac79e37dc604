/**
 * A remote engine's copies of the folders corral shares live with its containers (the gateway's):
 * each operation is one command over the SSH connection, or a forward through its master.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shellQuote } from '../command-line.js';
import type { HostFolders } from '../host-folders.js';
import { writeInPlace } from './files.js';
import type { SshSession } from './ssh.js';

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** What the copies need of the remote engine: its connection and how it names things there. */
export interface RemoteCopies {
  readonly ssh: SshSession;
  push(dir: string): Promise<unknown>;
  remotePath(local: string): string;
  remoteFile(path: string): string;
  baseFile(local: string): string;
}

export function remoteHostFolders(engine: RemoteCopies): HostFolders {
  return {
    push: async (dir: string) => {
      await engine.push(dir);
    },
    read: async (path: string, from = 0, max?: number) => {
      const f = shellQuote(engine.remoteFile(path));
      // `test` first: a pipeline's status is head's, which would make a missing file read empty.
      const cut = max === undefined ? '' : ` | head -c ${Math.max(0, Math.floor(max))}`;
      const r = await engine.ssh.run(`test -f ${f} && tail -c +${Math.floor(from) + 1} ${f}${cut}`);
      return r.code === 0 ? r.stdout.toString() : undefined;
    },
    size: async (path: string) => {
      const f = shellQuote(engine.remoteFile(path));
      const r = await engine.ssh.run(`test -f ${f} && wc -c < ${f}`);
      const n = Number(r.stdout.toString().trim());
      return r.code === 0 && Number.isFinite(n) ? n : undefined;
    },
    rewriteMounted: (path: string, content: Buffer) =>
      writeInPlace(engine.ssh, engine.remotePath(path), content),
    remove: async (path: string) => {
      await engine.ssh.check(`rm -f ${shellQuote(engine.remoteFile(path))}`, 'Removing a file');
    },
    removeCopies: async (paths: string[]) => {
      if (!paths.length) return;
      const there = paths.map((p) => shellQuote(engine.remotePath(p))).join(' ');
      await engine.ssh.check(`rm -rf ${there}`, 'Removing copies');
      // The sync bases: a later run uploads afresh rather than trusting copies that are gone.
      await Promise.all(paths.map((p) => rm(engine.baseFile(p), { force: true })));
    },
    socketReady: async (path: string) =>
      (await engine.ssh.run(`test -S ${shellQuote(engine.remoteFile(path))}`)).code === 0,
    /** An SSH reverse forward of a unix socket: the remote side is a socket in the copy, never a port. */
    serveSocket: async (path: string) => {
      const remote = engine.remoteFile(path);
      await engine.ssh.forwardRemote(remote, path);
      return () => engine.ssh.cancelRemote(remote, path);
    },
    /** An SSH local forward to a unix socket there: nothing listens on a port on that machine. */
    forwardPort: async (hostIp: string, hostPort: number, path: string) => {
      const spec = `${hostIp}:${hostPort}:${engine.remoteFile(path)}`;
      await engine.ssh.forwardPort(spec);
      return () => engine.ssh.cancelPort(spec);
    },
    unforwardPort: (hostIp: string, hostPort: number, path: string) =>
      engine.ssh.cancelPort(`${hostIp}:${hostPort}:${engine.remoteFile(path)}`),
    /**
     * A unix socket in the private SSH folder here reaching a socket a container serves in the copy
     * (the gateway's, which the daemon holds to keep it warm): a local forward through the master.
     */
    reachSocket: async (path: string) => {
      const remote = engine.remoteFile(path);
      const local = join(engine.ssh.dir, `s-${engine.ssh.key()}-${short(remote).slice(0, 8)}.sock`);
      await engine.ssh.forwardLocal(local, remote);
      return { local, close: () => engine.ssh.cancelLocal(local, remote) };
    },
    forwardPortCommands: (hostIp: string, hostPort: number, path: string) => {
      const spec = `${hostIp}:${hostPort}:${engine.remoteFile(path)}`;
      return {
        forward: engine.ssh.argv(['-O', 'forward', '-L', spec]),
        cancel: engine.ssh.argv(['-O', 'cancel', '-L', spec]),
      };
    },
  };
}
