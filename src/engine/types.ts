/**
 * The one seam between corral and a container engine. Everything above this folder speaks these
 * types; only src/engine/ knows about dockerode, the Docker Engine API or Podman's libpod API.
 */

import type { Duplex, Readable } from 'node:stream';
import type { HostFolders } from './host-folders.js';
import type { Isolation } from './isolation.js';

/** The engines on this machine; Kubernetes runs pods on a cluster (src/engine/kubernetes/). */
export type LocalEngineKind = 'podman' | 'docker';
export type EngineKind = LocalEngineKind | 'kubernetes';

export interface EngineInfo {
  version: string;
  runtime: string;
  cgroupVersion: string;
  rootless: boolean;
}

export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

export interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly?: boolean;
}

/** Engine-neutral description of one container. */
export interface ContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** "uid:gid" inside the container. */
  user: string;
  workdir: string;
  tty: boolean;
  openStdin: boolean;
  /** Close stdin when the first attached client detaches (attached runs); false keeps it for re-attach. */
  stdinOnce?: boolean;
  mounts: Mount[];
  capDrop: string[];
  capAdd?: string[];
  noNewPrivileges: boolean;
  pidsLimit?: number;
  memoryBytes?: number;
  /** Per-container user namespace (Podman only; see PodmanEngine). */
  idMappings?: { uid: IdMapping[]; gid: IdMapping[] };
  /** Rootless Podman: map the invoking user onto this container uid:gid (`--userns=keep-id:uid=,gid=`). */
  keepId?: { uid: number; gid: number };
  /** A network name, or `none` for no network at all (only loopback). */
  network?: string;
  /** Extra names the container answers to on `network` (a service's short name). */
  networkAliases?: string[];
  /** Namespaced kernel settings (e.g. net.ipv4.ip_unprivileged_port_start). */
  sysctls?: Record<string, string>;
  /**
   * Refuse nested user namespaces (`unshare -U`, `clone(CLONE_NEWUSER)`) in the container. Docker's
   * default seccomp profile already does; Podman's allows them, so it gets a derived profile.
   */
  blockUserNamespaces?: boolean;
  /** Published ports (tcp). */
  ports?: PortBinding[];
  extraHosts?: string[];
  autoRemove?: boolean;
  /** The OCI runtime, by isolation level (runtimes.ts); undefined: the engine's default (runc). */
  isolation?: Isolation;
  /** A read-only root filesystem (rendered by the Kubernetes engine; the local engines ignore it). */
  readOnlyRootfs?: boolean;
  /**
   * Other containers use the unix sockets this one makes in its writable bind-mounted folders (the
   * gateway's). Engines whose containers share those folders need nothing; Kubernetes without node
   * folders serves them over the pod network (kubernetes/link.ts).
   */
  serveSockets?: boolean;
}

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  labels: Record<string, string>;
  created: number;
  ports: PortBinding[];
}

export interface ContainerDetails extends ContainerSummary {
  running: boolean;
  exitCode: number;
  user: string;
  tty: boolean;
  /** Address on each network the container is attached to, by network name. */
  networks: Record<string, { ip: string }>;
}

/** What an image declares for its containers. */
export interface ImageDetails {
  /** EXPOSE'd tcp ports. */
  exposedPorts: number[];
  /** VOLUME paths. */
  volumes: string[];
}

export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  size: number;
  created: number;
}

export interface BuildOptions {
  /** A tar stream of the build context (Containerfile included). */
  context: Readable;
  dockerfile: string;
  tag: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  /** ARG values (a devcontainer's build.args). */
  buildArgs?: Record<string, string>;
  /** The stage to build in a multi-stage Dockerfile. */
  target?: string;
  /** Called with each line of build output. */
  onOutput?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  user?: string;
  env?: Record<string, string>;
  workdir?: string;
  tty?: boolean;
  stdin?: boolean;
}

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
}

/** The config's `kubernetes:` section, as far as connecting needs it. */
export interface KubeSettingsInput {
  context?: string | undefined;
  namespace?: string | undefined;
  storage_class?: string | undefined;
  registry?: string | undefined;
  workspace?: 'hostPath' | 'upload' | 'git' | undefined;
  node_folders?: boolean | undefined;
  pull_secret?: string | undefined;
  /** The kubeconfig file(s), as KUBECONFIG lists them (default: what KUBECONFIG or ~/.kube/config says). */
  kubeconfig?: string | undefined;
}

/** What another corral process needs to connect to the same engine, where its endpoint cannot say. */
export interface EngineReconnect {
  kubernetes?: KubeSettingsInput;
}

export interface ContainerEngine {
  readonly kind: EngineKind;
  /** Where the engine API was found, for messages and `corral doctor`. */
  readonly endpoint: string;
  /** The engine runs as the invoking user (rootless Podman or Docker): uid mapping differs. */
  readonly rootless: boolean;
  /**
   * How a detached run's bridge process (or the daemon) connects to this same engine, when the
   * endpoint is not enough (Kubernetes: its settings, context and kubeconfig). No secrets: paths and names.
   */
  readonly reconnect?: EngineReconnect;
  /**
   * An engine on another machine (`ssh://user@host`): it cannot see this machine's files, so
   * bind mounts are copies there, and the workspace comes back through `workspaceSync`.
   */
  readonly remote?: string;
  /** Who owns the folders the engine's containers see, when not this process's user (remote). */
  readonly filesOwner?: { uid: number; gid: number };
  /** Folders whose containers see copies, not the folders (host-folders.ts). */
  readonly hostFolders?: HostFolders;
  /**
   * The addresses of the machine the engine runs on, when that is not this one (a remote engine):
   * the gateway there refuses them as the host's, instead of this machine's.
   */
  hostAddresses?(): Promise<string[]>;
  /**
   * Make a unix socket this process listens on (`hostSocket`, in a folder no container sees)
   * reachable at `sharedPath`, a path in a folder corral shares with its containers, through the
   * engine's own streams rather than the node's files (Kubernetes: an exec stream into the pod
   * that has the folder). Never a port.
   */
  relaySocket?(sharedPath: string, hostSocket: string): Promise<() => Promise<void>>;
  /** Bring the sandbox's copy of a workspace back (three-way; conflicts refused). */
  readonly workspaceSync?: {
    pull(localPath: string): Promise<{ changed: string[]; removed: string[]; pending: number }>;
  };
  ping(): Promise<void>;
  version(): Promise<string>;
  info(): Promise<EngineInfo>;

  imageExists(ref: string): Promise<boolean>;
  listImages(labelFilter: string[]): Promise<ImageSummary[]>;
  removeImage(ref: string): Promise<void>;
  buildImage(opts: BuildOptions): Promise<void>;
  /** Import a root filesystem tarball as an image (the offline base bootstrap). */
  importImage(rootfs: Readable, tag: string, changes: string[]): Promise<void>;
  pullImage(ref: string, onOutput?: (line: string) => void): Promise<void>;
  inspectImage(ref: string): Promise<ImageDetails | undefined>;

  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Give a container (created, not started) another name; engines without it leave it undefined. */
  rename?(id: string, name: string): Promise<void>;
  /** Set up a created container's runtime ahead of its start (Podman's `init`); optional. */
  init?(id: string): Promise<void>;
  /** Attach before start to see all output; returns a raw (tty) or multiplexed stream. */
  attach(id: string, opts: AttachOptions): Promise<Duplex>;
  /** Split a multiplexed (non-tty) attach/exec/logs stream into stdout and stderr. */
  demux(stream: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void;
  resize(id: string, rows: number, cols: number): Promise<void>;
  /**
   * The container's exit code, once it exits. `pollMs`: how often an engine that polls (Podman)
   * looks; a long wait (a detached run's whole life) asks for less than a short run's fast default.
   */
  wait(id: string, opts?: { pollMs?: number }): Promise<number>;
  stop(id: string, timeoutSeconds?: number): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  remove(id: string, opts?: { force?: boolean }): Promise<void>;
  inspect(id: string): Promise<ContainerDetails | undefined>;
  list(opts: { labels: string[]; all?: boolean }): Promise<ContainerSummary[]>;
  logs(id: string, opts: { follow?: boolean; tail?: number }): Promise<Readable>;
  /** Run a command to completion and collect its output. */
  exec(id: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Start an interactive exec; returns the stream and a function resolving to its exit code. */
  execStream(
    id: string,
    cmd: string[],
    opts?: ExecOptions,
  ): Promise<{
    stream: Duplex;
    exitCode: () => Promise<number>;
    resize: (rows: number, cols: number) => Promise<void>;
  }>;

  /** A file or folder of a container (created or stopped is enough) as a tar; undefined if missing. */
  getArchive(id: string, path: string): Promise<Buffer | undefined>;

  volumeExists(name: string): Promise<boolean>;
  /**
   * Where an engine on this machine, over a local socket, keeps a volume's files (its Mountpoint),
   * or undefined (another machine, a TCP endpoint, no such volume). Readable or not by this user:
   * callers fall back to the engine. Only engines that can know have it.
   */
  volumePath?(name: string): Promise<string | undefined>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labelFilter: string[]): Promise<{ name: string; labels: Record<string, string> }[]>;

  networkExists(name: string): Promise<boolean>;
  createNetwork(name: string, opts: { internal?: boolean; labels: Record<string, string> }): Promise<void>;
  removeNetwork(name: string): Promise<void>;
  listNetworks(labelFilter: string[]): Promise<{ name: string; labels: Record<string, string> }[]>;
  /** Attach a (running) container to a network; already attached is not an error. */
  connectNetwork(network: string, container: string, aliases?: string[]): Promise<void>;
  /** Detach a container from a network; not attached (or gone) is not an error. */
  disconnectNetwork(network: string, container: string): Promise<void>;
}
