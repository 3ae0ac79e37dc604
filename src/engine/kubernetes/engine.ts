/**
 * ContainerEngine on Kubernetes: a sandbox is a Pod (pod.ts), its volumes and networks are claims
 * or node folders and NetworkPolicies (resources.ts), exec/attach/logs go over the API server's
 * streams. Images are built by the local engine and imported (images.ts). A Pod cannot exist
 * without running, so `createContainer` only renders it and `startContainer` creates it.
 */
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { CorralError } from '../../errors.js';
import { demuxFrames } from '../streams.js';
import type {
  AttachOptions,
  BuildOptions,
  ContainerDetails,
  ContainerEngine,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  EngineReconnect,
  ExecOptions,
  ExecResult,
} from '../types.js';
import { canaryOf } from './channels.js';
import { type Clients, ignore404, type KubeSettings, statusOf } from './client.js';
import { fileSources } from './copies.js';
import { copiedFolders, deleteServing } from './host-folders.js';
import type { ImportTarget } from './images.js';
import { PodLife } from './lifecycle.js';
import { MANAGED_BY, objectName } from './names.js';
import { podFor } from './pod.js';
import { PodContexts } from './pod-context.js';
import { PodStarts } from './pod-starts.js';
import { PodStreams } from './pod-streams.js';
import { labelsOf, toDetails, toSummary } from './pods.js';
import { keptRelay, podWith, relaySocket } from './relay.js';
import { matches, Resources, setNetworkLabel } from './resources.js';
import { WorkspaceCopies } from './workspace.js';

export class KubernetesEngine implements ContainerEngine {
  readonly kind = 'kubernetes' as const;
  readonly rootless = false;
  readonly endpoint: string;
  readonly ns: string;
  private readonly res: Resources;
  private readonly life: PodLife;
  private readonly starts: PodStarts;
  private readonly streams: PodStreams;
  private readonly freshVolumes = new Set<string>();
  private readonly copies?: WorkspaceCopies;
  private readonly contexts: PodContexts;
  /** Without node folders: the gateway's folders are copies in its pod (host-folders.ts). */
  readonly hostFolders?: ContainerEngine['hostFolders'];

  constructor(
    readonly c: Clients,
    readonly settings: KubeSettings,
    /** The local engine that builds (and saves) corral's images. */
    readonly builder: ContainerEngine,
    importTarget: ImportTarget,
  ) {
    this.endpoint = `${c.server} (namespace ${settings.namespace})`;
    this.ns = settings.namespace;
    this.contexts = new PodContexts(c, settings, builder, importTarget);
    this.res = new Resources(c, this.ns, settings.storageClass, !settings.nodeFolders);
    if (!settings.nodeFolders) this.hostFolders = copiedFolders(c, this.ns);
    this.life = new PodLife(c, this.ns, settings.pullSecret);
    this.starts = new PodStarts(c, this.ns, this.life, (id, grace) => this.deletePod(id, grace));
    this.streams = new PodStreams(c, this.ns, (id) => this.life.running(id));
    if (settings.workspace !== 'hostPath') {
      const deps = {
        c,
        ns: this.ns,
        res: this.res,
        life: this.life,
        ensureNamespace: () => this.ensureNamespace(),
        context: (image: string) => this.contexts.of(image),
      };
      this.copies = new WorkspaceCopies(deps, settings.workspace);
    }
  }

  /** A detached run's bridge process connects to this cluster, context and namespace as this run did. */
  get reconnect(): EngineReconnect {
    const s = this.settings;
    return {
      kubernetes: {
        context: this.c.context,
        namespace: s.namespace,
        workspace: s.workspace,
        node_folders: s.nodeFolders,
        ...(s.storageClass ? { storage_class: s.storageClass } : {}),
        ...(s.registry ? { registry: s.registry } : {}),
        ...(s.pullSecret ? { pull_secret: s.pullSecret } : {}),
        ...(this.c.kubeconfig ? { kubeconfig: this.c.kubeconfig } : {}),
      },
    };
  }

  /** The sandbox works on a copy in the cluster (`upload`): `corral pull` and attached runs bring it back. */
  get workspaceSync() {
    const copies = this.copies;
    if (this.settings.workspace !== 'upload' || !copies) return undefined;
    return { pull: (local: string) => copies.pull(local) };
  }

  /**
   * The pod an id names: corral passes back names it created, or ids from `list`, which are pod
   * UIDs, shortened to 12 characters as for the local engines' ids.
   */
  private async pod(id: string): Promise<string> {
    if (this.life.has(id)) return id;
    const pods = await this.c.core.listNamespacedPod({
      namespace: this.ns,
      labelSelector: 'app.kubernetes.io/managed-by=corral',
    });
    const found = pods.items.find((p) => p.metadata?.name === id || p.metadata?.uid?.startsWith(id));
    return found?.metadata?.name ?? objectName(id);
  }

  /**
   * The host bridge's socket, served in the pod that has its folder (the gateway's) over exec, and
   * served again in the next such pod when that one goes (a gateway run again), until the undo.
   */
  async relaySocket(sharedPath: string, hostSocket: string): Promise<() => Promise<void>> {
    return keptRelay(async () => {
      const where = await podWith(this.c, this.ns, sharedPath);
      if (!where) {
        throw new CorralError(
          'ENGINE_ERROR',
          `No running pod of corral's in namespace ${this.ns} has ${dirname(sharedPath)}, to serve the host bridge in.`,
        );
      }
      return relaySocket(this.c, this.ns, where.pod, where.inPod, hostSocket);
    });
  }

  async ping(): Promise<void> {
    await this.c.core.listNamespacedPod({ namespace: this.ns, limit: 1 });
  }
  async version(): Promise<string> {
    return (await this.c.kc.makeApiClient(this.c.lib.VersionApi).getCode()).gitVersion;
  }
  async info(): Promise<EngineInfo> {
    const nodes = await this.c.core.listNode();
    const n = nodes.items[0]?.status?.nodeInfo;
    return {
      version: await this.version(),
      runtime: n?.containerRuntimeVersion ?? '?',
      cgroupVersion: '?',
      rootless: false,
    };
  }

  /** The namespace corral's pods live in, made on first use. */
  async ensureNamespace(): Promise<void> {
    await this.c.core
      .createNamespace({ body: { metadata: { name: this.ns, labels: { ...MANAGED_BY } } } })
      .catch((e) => {
        if (statusOf(e) !== 409 && statusOf(e) !== 403) throw e;
      });
  }

  // Images: built and kept by the local engine; imported into the cluster when a pod needs one.
  imageExists = (ref: string) => this.builder.imageExists(ref);
  listImages = (f: string[]) => this.builder.listImages(f);
  removeImage = (ref: string) => this.builder.removeImage(ref);
  buildImage = (o: BuildOptions) => this.builder.buildImage(o);
  importImage = (r: Readable, tag: string, ch: string[]) => this.builder.importImage(r, tag, ch);
  pullImage = (ref: string, out?: (l: string) => void) => this.builder.pullImage(ref, out);
  inspectImage = (ref: string) => this.builder.inspectImage(ref);

  async createContainer(given: ContainerSpec): Promise<string> {
    const name = objectName(given.name);
    await this.ensureNamespace();
    // `upload`/`git`: the workspace is a volume (brought up to date from this machine first / cloned into).
    const spec = this.copies ? await this.copies.prepare(given) : given;
    if (spec.network === 'none') await this.res.ensureNoNetworkPolicy();
    for (const m of spec.mounts) {
      if (m.type === 'volume' && !(await this.res.volumeExists(m.source)))
        await this.createVolume(m.source, {});
    }
    const canary = canaryOf(this.c.server);
    const copies = this.settings.nodeFolders ? undefined : { files: await fileSources(spec.mounts) };
    const pod = podFor(spec, {
      ...(await this.contexts.of(spec.image)),
      volume: (v) => this.res.volumePlace(v),
      freshVolumes: this.freshVolumes,
      ...(canary ? { canary } : {}),
      ...(copies ? { copies } : {}),
    });
    this.starts.hold(name, pod, spec);
    return name;
  }

  /** Start a created pod, or run again one whose container ended (pod-starts.ts). */
  async startContainer(ref: string): Promise<void> {
    await this.starts.start(this.life.pendingPod(ref) ? ref : await this.pod(ref));
  }

  /** Removing a pod that serves its folders: bring back what it wrote, and drop its policies. */
  private deletePod(id: string, grace: number): Promise<void> {
    const del = () => this.life.delete(id, grace);
    return this.settings.nodeFolders ? del() : deleteServing(this.c, this.ns, id, del);
  }

  async attach(ref: string, opts: AttachOptions) {
    return this.streams.attach(await this.pod(ref), opts);
  }

  demux(stream: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
    demuxFrames(stream, stdout, stderr);
  }

  async resize(ref: string, rows: number, cols: number): Promise<void> {
    this.streams.resize(await this.pod(ref), rows, cols);
  }

  async wait(ref: string, opts: { pollMs?: number } = {}): Promise<number> {
    return this.life.exitCode(await this.pod(ref), opts.pollMs);
  }

  /** Kubernetes has no stopped pod: stopping deletes it, after `timeoutSeconds` of grace. */
  async stop(ref: string, timeoutSeconds = 10): Promise<void> {
    await this.deletePod(await this.pod(ref), timeoutSeconds);
  }
  async kill(ref: string): Promise<void> {
    await this.deletePod(await this.pod(ref), 0);
  }
  async remove(ref: string, _opts?: { force?: boolean }): Promise<void> {
    await this.deletePod(await this.pod(ref), 0);
  }

  async inspect(ref: string): Promise<ContainerDetails | undefined> {
    const id = await this.pod(ref);
    const pod = await ignore404(() => this.c.core.readNamespacedPod({ name: id, namespace: this.ns }));
    return pod ? toDetails(pod) : undefined;
  }

  async list(opts: { labels: string[]; all?: boolean }): Promise<ContainerSummary[]> {
    const pods = await ignore404(() =>
      this.c.core.listNamespacedPod({
        namespace: this.ns,
        labelSelector: 'app.kubernetes.io/managed-by=corral',
      }),
    );
    return (pods?.items ?? [])
      .filter((p) => matches(labelsOf(p), opts.labels))
      .map(toSummary)
      .filter((s) => opts.all !== false || s.state === 'running');
  }

  async logs(ref: string, opts: { follow?: boolean; tail?: number }): Promise<Readable> {
    return this.streams.logs(await this.pod(ref), opts);
  }

  async exec(ref: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.streams.exec(await this.pod(ref), cmd, opts);
  }

  async execStream(ref: string, cmd: string[], opts: ExecOptions = {}) {
    return this.streams.execStream(await this.pod(ref), cmd, opts);
  }

  async getArchive(ref: string, path: string): Promise<Buffer | undefined> {
    const id = await this.pod(ref);
    if (!(await this.inspect(id))?.running) return undefined;
    return this.streams.archive(id, path);
  }

  volumeExists = (name: string) => this.res.volumeExists(name);
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.res.createVolume(name, labels);
    this.freshVolumes.add(name);
  }
  removeVolume = (name: string) => this.res.removeVolume(name);
  listVolumes = (f: string[]) => this.res.listVolumes(f);
  networkExists = (name: string) => this.res.networkExists(name);
  async createNetwork(
    name: string,
    opts: { internal?: boolean; labels: Record<string, string> },
  ): Promise<void> {
    await this.ensureNamespace();
    await this.res.createNetwork(name, opts);
  }
  removeNetwork = (name: string) => this.res.removeNetwork(name);
  listNetworks = (f: string[]) => this.res.listNetworks(f);
  /** Joining a network is carrying its label (a pending pod gets it before it is created). */
  async connectNetwork(network: string, container: string): Promise<void> {
    await setNetworkLabel(this.c, this.ns, this.life, network, container, '1');
  }
  async disconnectNetwork(network: string, container: string): Promise<void> {
    await setNetworkLabel(this.c, this.ns, this.life, network, container, null).catch(() => undefined);
  }
}
