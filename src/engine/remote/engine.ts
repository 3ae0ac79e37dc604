/**
 * Podman or Docker on another machine, reached over SSH: the remote engine's API socket is
 * forwarded to a unix socket in the user's private runtime folder here, and the usual
 * Podman/Docker implementation talks to it. What differs from a local engine is below: images
 * are built here and copied over, and the host paths a local engine bind-mounts (the workspace,
 * corral's own folders and files) become folders on the remote machine, uploaded at create and,
 * for the workspace, brought back by `pull` (three-way, conflicts refused: sync.ts).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import envPaths from 'env-paths';
import { CorralError } from '../../errors.js';
import { shellQuote } from '../command-line.js';
import { DockerApiEngine } from '../docker-api.js';
import type { HostFolders } from '../host-folders.js';
import { apiRequest } from '../http.js';
import { PodmanEngine } from '../podman.js';
import type {
  AttachOptions,
  BuildOptions,
  ContainerEngine,
  ContainerSpec,
  ExecOptions,
  LocalEngineKind,
  Mount,
} from '../types.js';
import { LIST_ADDRESSES, machineAddresses } from './addresses.js';
import { copyImage } from './copy-image.js';
import { putFile, ShellTree, writeInPlace } from './files.js';
import { remoteHostFolders } from './host-folders.js';
import { remoteIsolationRefused } from './limits.js';
import type { SshSession } from './ssh.js';
import { LocalTree, type SyncReport, syncTrees } from './sync.js';

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

export interface RemoteInfo {
  kind: LocalEngineKind;
  /** The engine's socket on the remote machine. */
  socket: string;
  rootless: boolean;
  /** The remote user, who owns the copies there. */
  owner: { uid: number; gid: number };
  /** The socket was named in the URL: kind and rootless are asked of the engine itself. */
  rootlessUnknown?: boolean;
  /** Where corral keeps its copies on the remote machine. */
  stateDir: string;
}

/** The remote engine's own implementation, with the few calls that must know it is remote. */
export function remoteInner(info: RemoteInfo, ssh: SshSession, localSocket: string): DockerApiEngine {
  // Connectable as it is (`--engine`, the detached bridge's reconnect): the socket is in the URL.
  const endpoint = `${ssh.url}${info.socket}`;
  if (info.kind === 'docker')
    return new DockerApiEngine('docker', endpoint, { socketPath: localSocket }, info.rootless);
  const p = new PodmanEngine('podman', endpoint, { socketPath: localSocket }, info.rootless);
  const copied = new Map<string, Promise<string>>();
  p.profilePath = (local) => {
    let done = copied.get(local);
    if (!done) {
      const remote = `${info.stateDir}/seccomp/${local.split('/').pop()}`;
      done = readFile(local).then((b) => putFile(ssh, remote, b).then(() => remote));
      copied.set(local, done);
    }
    return done;
  };
  return p;
}

export class RemoteEngine implements ContainerEngine {
  readonly kind: LocalEngineKind;
  readonly endpoint: string;
  readonly rootless: boolean;
  readonly remote: string;
  readonly filesOwner: { uid: number; gid: number };
  private readonly images = new Map<string, Promise<void>>();

  constructor(
    readonly inner: DockerApiEngine,
    readonly ssh: SshSession,
    readonly where: RemoteInfo,
    private readonly localSocket: string,
    /** The local engine that builds corral's images (the same kind as the remote one). */
    readonly builder: ContainerEngine,
  ) {
    this.kind = where.kind;
    this.endpoint = inner.endpoint;
    this.rootless = where.rootless;
    this.remote = ssh.url;
    this.filesOwner = where.owner;
  }

  /** The folder on the remote machine standing in for a host path. */
  remotePath(local: string): string {
    return `${this.where.stateDir}/m/${short(local)}`;
  }

  /** Where the last exchange with the copy of `local` is kept (sync.ts's base). */
  baseFile(local: string): string {
    const data = process.env.CORRAL_DATA_DIR ?? envPaths('corral', { suffix: '' }).data;
    return join(data, 'remote-sync', `${this.ssh.key()}-${short(local)}.json`);
  }

  /** Upload (only what changed since the last exchange) and return the mount as the remote sees it. */
  private async remoteMount(m: Mount, uid: number): Promise<Mount> {
    if (m.type !== 'bind') return m;
    const st = await stat(m.source).catch(() => undefined);
    if (!st) {
      throw new CorralError(
        'WORKSPACE_INVALID',
        `${m.source} does not exist, so it cannot be copied to ${this.remote}.`,
      );
    }
    const remote = this.remotePath(m.source);
    if (st.isDirectory()) {
      await this.push(m.source);
      if (!m.readOnly && !this.rootless) await this.grant(remote, uid);
    } else {
      // In place: sandboxes started earlier mount the same copy (the hosts file services rewrite).
      await writeInPlace(this.ssh, remote, await readFile(m.source), st.mode & 0o777);
    }
    return { ...m, source: remote };
  }

  /**
   * A rootful engine runs the agent as a uid (1000) that is not the remote user: it gets the copy
   * by ACL (as the workspace is granted locally with Docker as root), and the remote user keeps
   * access to what the agent makes (default ACL), so later syncs can replace and read it.
   */
  private async grant(dir: string, uid: number): Promise<void> {
    if (!uid) return;
    const d = shellQuote(dir);
    // Only what the remote user owns: what the agent made is its own already.
    const me = '-user "$(id -u)"';
    const r = await this.ssh.run(
      `find ${d} ${me} -exec setfacl -m u:${uid}:rwX -m "u:$(id -u):rwX" {} + && ` +
        `find ${d} -type d ${me} -exec setfacl -m d:u:${uid}:rwX -m "d:u:$(id -u):rwX" {} +`,
    );
    if (r.code !== 0) {
      throw new CorralError(
        'WORKSPACE_INVALID',
        `Could not let the sandbox user (uid ${uid}) write the workspace copy on ${this.remote}: ${r.stderr.trim().slice(-200)}`,
        'Install the acl package there (apt-get install -y acl), or use rootless Podman there.',
      );
    }
  }

  /** This machine's copy → the remote one, where only this side changed; conflicts refused. */
  push(local: string): Promise<SyncReport> {
    return syncTrees(
      new LocalTree(local),
      new ShellTree(this.ssh, this.remotePath(local)),
      this.baseFile(local),
      'push',
    );
  }

  /** The remote copy → this machine, where only the sandbox changed; conflicts refused. */
  pull(local: string): Promise<SyncReport> {
    return syncTrees(
      new ShellTree(this.ssh, this.remotePath(local)),
      new LocalTree(local),
      this.baseFile(local),
      'pull',
    );
  }

  readonly workspaceSync = { pull: (local: string) => this.pull(local) };

  /** A file directly inside a bind-mounted folder, as the copy on the remote machine names it. */
  remoteFile(path: string): string {
    return `${this.remotePath(dirname(path))}/${basename(path)}`;
  }

  readonly hostFolders: HostFolders = remoteHostFolders(this);

  private addresses?: Promise<string[]>;

  /** The remote machine's own addresses, every interface, asked once per connection. */
  hostAddresses(): Promise<string[]> {
    this.addresses ??= this.ssh
      .check(LIST_ADDRESSES, "Listing the machine's addresses")
      .then((out) => machineAddresses(out.toString()));
    this.addresses.catch(() => {
      this.addresses = undefined;
    });
    return this.addresses;
  }

  /** The image, built here, copied to the remote engine unless it has it. */
  ensureImage(ref: string): Promise<void> {
    let p = this.images.get(ref);
    if (!p) {
      p = (async () => {
        if (await this.inner.imageExists(ref)) return;
        if (!(await this.builder.imageExists(ref))) return; // not corral's: the remote engine pulls or fails
        await copyImage(this.builder.kind, ref, (tar) =>
          apiRequest({ socketPath: this.localSocket }, 'POST', '/images/load?quiet=1', undefined, tar),
        );
      })();
      this.images.set(ref, p);
      p.catch(() => this.images.delete(ref));
    }
    return p;
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const refused = remoteIsolationRefused(this, spec.isolation);
    if (refused) throw refused;
    await this.ensureImage(spec.image);
    const mounts: Mount[] = [];
    const uid = Number(spec.user.split(':')[0]) || 0;
    for (const m of spec.mounts) mounts.push(await this.remoteMount(m, uid));
    return this.inner.createContainer({ ...spec, mounts });
  }

  ping = () => this.inner.ping();
  version = () => this.inner.version();
  info = () => this.inner.info();

  // Images: built and kept by the local engine; copied over when a container needs one.
  imageExists = (ref: string) => this.builder.imageExists(ref);
  listImages = (f: string[]) => this.builder.listImages(f);
  removeImage = (ref: string) => this.builder.removeImage(ref);
  buildImage = (o: BuildOptions) => this.builder.buildImage(o);
  importImage = (r: Readable, tag: string, ch: string[]) => this.builder.importImage(r, tag, ch);
  pullImage = (ref: string, out?: (l: string) => void) => this.builder.pullImage(ref, out);
  inspectImage = (ref: string) => this.builder.inspectImage(ref);

  startContainer = (id: string) => this.inner.startContainer(id);
  attach = (id: string, o: AttachOptions) => this.inner.attach(id, o);
  demux = (s: Readable, out: NodeJS.WritableStream, err: NodeJS.WritableStream) =>
    this.inner.demux(s, out, err);
  resize = (id: string, rows: number, cols: number) => this.inner.resize(id, rows, cols);
  wait = (id: string) => this.inner.wait(id);
  stop = (id: string, t?: number) => this.inner.stop(id, t);
  kill = (id: string, signal?: string) => this.inner.kill(id, signal);
  remove = (id: string, o?: { force?: boolean }) => this.inner.remove(id, o);
  inspect = (id: string) => this.inner.inspect(id);
  list = (o: { labels: string[]; all?: boolean }) => this.inner.list(o);
  logs = (id: string, o: { follow?: boolean; tail?: number }) => this.inner.logs(id, o);
  exec = (id: string, cmd: string[], o?: ExecOptions) => this.inner.exec(id, cmd, o);
  execStream = (id: string, cmd: string[], o?: ExecOptions) => this.inner.execStream(id, cmd, o);
  getArchive = (id: string, path: string) => this.inner.getArchive(id, path);
  volumeExists = (name: string) => this.inner.volumeExists(name);
  createVolume = (name: string, labels: Record<string, string>) => this.inner.createVolume(name, labels);
  removeVolume = (name: string) => this.inner.removeVolume(name);
  listVolumes = (f: string[]) => this.inner.listVolumes(f);
  networkExists = (name: string) => this.inner.networkExists(name);
  createNetwork = (name: string, o: { internal?: boolean; labels: Record<string, string> }) =>
    this.inner.createNetwork(name, o);
  removeNetwork = (name: string) => this.inner.removeNetwork(name);
  listNetworks = (f: string[]) => this.inner.listNetworks(f);
  connectNetwork = (n: string, c: string, aliases?: string[]) => this.inner.connectNetwork(n, c, aliases);
  disconnectNetwork = (n: string, c: string) => this.inner.disconnectNetwork(n, c);
}

/** This machine and user, as the remote machine's folders name them (many laptops, one server). */
export const clientId = (): string => short(`${hostname()}:${process.getuid?.() ?? 0}`);
