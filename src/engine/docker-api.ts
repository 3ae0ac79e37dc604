/**
 * ContainerEngine over the Docker Engine API, through dockerode. Serves Docker, and Podman's
 * Docker-compatible socket (PodmanEngine overrides the few calls the compat API can't express).
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { getArchive } from './archive.js';
import {
  createBody,
  type DockerInfo,
  execBody,
  toDetails,
  toEngineInfo,
  toImageSummary,
  toSummary,
} from './docker-body.js';
import { buildImage, importImage, pullImage } from './docker-images.js';
import {
  connectNetwork,
  createNetwork,
  createVolume,
  disconnectNetwork,
  hasLabels,
  inspectImage,
  listNetworks,
  listVolumes,
  networkExists,
  removeNetwork,
  removeVolume,
  volumeExists,
  volumePath,
} from './docker-resources.js';
import { exists, ignoreMissing, isMissing } from './errors.js';
import { hijack, type Transport } from './hijack.js';
import { apiRequest, query } from './http.js';
import { dockerRuntimeError } from './runtimes.js';
import { noUserNamespaceProfile } from './seccomp.js';
import { collectExec, demuxFrames } from './streams.js';
import type {
  AttachOptions,
  BuildOptions,
  ContainerDetails,
  ContainerEngine,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  EngineKind,
  ExecOptions,
  ExecResult,
  ImageSummary,
} from './types.js';

export class DockerApiEngine implements ContainerEngine {
  private client?: Promise<Docker>;
  readonly rootless: boolean;

  constructor(
    readonly kind: EngineKind,
    readonly endpoint: string,
    protected readonly transport: Transport,
    /** Known from the engine itself (a remote engine's local socket says nothing about it). */
    rootless?: boolean,
  ) {
    // Rootless engines listen in the user's runtime dir; rootful ones under /run or /var/run.
    this.rootless = rootless ?? /\/run\/user\/\d+\//.test(endpoint);
  }

  /** dockerode, loaded on first use (see http.ts for why the start path avoids it). */
  protected docker(): Promise<Docker> {
    this.client ??= import('dockerode').then((m) => new m.default(this.transport));
    return this.client;
  }

  protected request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    upload?: Readable,
  ): Promise<T> {
    return apiRequest<T>(this.transport, method, path, body, upload);
  }

  async ping(): Promise<void> {
    await this.request('GET', '/_ping');
  }

  async version(): Promise<string> {
    return (await this.request<{ Version: string }>('GET', '/version')).Version;
  }

  async info(): Promise<EngineInfo> {
    return toEngineInfo(await this.request<DockerInfo>('GET', '/info'));
  }

  async imageExists(ref: string): Promise<boolean> {
    return exists(() => this.request('GET', `/images/${encodeURIComponent(ref)}/json`));
  }

  async listImages(labelFilter: string[]): Promise<ImageSummary[]> {
    const images = await (await this.docker()).listImages({ filters: { label: labelFilter } });
    return images.map(toImageSummary);
  }

  async removeImage(ref: string): Promise<void> {
    await ignoreMissing(() => this.request('DELETE', `/images/${encodeURIComponent(ref)}`));
  }

  buildImage(opts: BuildOptions): Promise<void> {
    return buildImage(this.docker(), opts, (tag) => this.imageExists(tag));
  }

  importImage(rootfs: Readable, tag: string, changes: string[]): Promise<void> {
    return importImage(this.docker(), rootfs, tag, changes);
  }

  pullImage(ref: string, onOutput?: (line: string) => void): Promise<void> {
    return pullImage(this.docker(), ref, onOutput);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const body = createBody(spec);
    // Docker's default profile under gVisor's --oci-seccomp breaks thread starts (seccomp.ts): its
    // containers get the derived profile instead, inline (Docker takes the JSON itself).
    if (spec.isolation === 'gvisor') {
      const profile = await readFile(await noUserNamespaceProfile('gvisor'), 'utf8');
      body.HostConfig.SecurityOpt.push(`seccomp=${profile}`);
    }
    try {
      const res = await this.request<{ Id: string }>(
        'POST',
        `/containers/create${query({ name: spec.name })}`,
        body,
      );
      return res.Id;
    } catch (e) {
      throw dockerRuntimeError(spec.isolation, (e as Error).message) ?? e;
    }
  }

  async startContainer(id: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/start`);
  }

  async rename(id: string, name: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/rename${query({ name })}`);
  }

  async attach(id: string, opts: AttachOptions) {
    const q = `stream=1&stdout=1&stderr=1&stdin=${opts.stdin ? 1 : 0}`;
    return hijack(this.transport, `/containers/${encodeURIComponent(id)}/attach?${q}`);
  }

  demux(stream: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
    demuxFrames(stream, stdout, stderr);
  }

  async resize(id: string, rows: number, cols: number): Promise<void> {
    await this.request(
      'POST',
      `/containers/${encodeURIComponent(id)}/resize${query({ h: rows, w: cols })}`,
    ).catch(() => undefined);
  }

  async wait(id: string): Promise<number> {
    const result = await this.request<{ StatusCode: number }>(
      'POST',
      `/containers/${encodeURIComponent(id)}/wait`,
    );
    return result.StatusCode;
  }

  async stop(id: string, timeoutSeconds = 10): Promise<void> {
    await ignoreMissing(
      () => this.request('POST', `/containers/${encodeURIComponent(id)}/stop${query({ t: timeoutSeconds })}`),
      [304, 404],
    );
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await ignoreMissing(
      () => this.request('POST', `/containers/${encodeURIComponent(id)}/kill${query({ signal })}`),
      [404, 409],
    );
  }

  async remove(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await ignoreMissing(
      () =>
        this.request(
          'DELETE',
          `/containers/${encodeURIComponent(id)}${query({ force: opts.force ?? false, v: false })}`,
        ),
      [404, 409],
    );
  }

  async inspect(id: string): Promise<ContainerDetails | undefined> {
    try {
      const c = await this.request<Docker.ContainerInspectInfo>(
        'GET',
        `/containers/${encodeURIComponent(id)}/json`,
      );
      return toDetails(c);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async list(opts: { labels: string[]; all?: boolean }): Promise<ContainerSummary[]> {
    // The small HTTP client, not dockerode: this runs on every start and end, and loading
    // dockerode costs ~130 ms.
    const cs = await this.request<Docker.ContainerInfo[]>(
      'GET',
      `/containers/json${query({ all: opts.all ?? true, filters: JSON.stringify({ label: opts.labels }) })}`,
    );
    // Checked again: engines differ in how they combine several label filters (docker-resources.ts).
    return cs.map(toSummary).filter((c) => hasLabels(c.labels, opts.labels));
  }

  async logs(id: string, opts: { follow?: boolean; tail?: number }): Promise<Readable> {
    const c = (await this.docker()).getContainer(id);
    const base = { stdout: true, stderr: true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) };
    if (opts.follow) return (await c.logs({ ...base, follow: true })) as unknown as Readable;
    const { Readable: R } = await import('node:stream');
    return R.from([await c.logs({ ...base, follow: false as never })]);
  }

  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const exec = await (await this.docker())
      .getContainer(id)
      .exec(execBody(cmd, { ...opts, tty: false, stdin: false }));
    const stream = await exec.start({ hijack: true, stdin: false });
    const { stdout, stderr } = await collectExec(stream, (s, o, e) => this.demux(s, o, e));
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout, stderr };
  }

  async execStream(id: string, cmd: string[], opts: ExecOptions = {}) {
    const { Id: execId } = await this.request<{ Id: string }>(
      'POST',
      `/containers/${encodeURIComponent(id)}/exec`,
      execBody(cmd, opts),
    );
    const stream = await hijack(this.transport, `/exec/${execId}/start`, {
      Detach: false,
      Tty: opts.tty ?? false,
    });
    const exitCode = async () => {
      await new Promise<void>((resolve) => {
        if (stream.destroyed || stream.readableEnded) resolve();
        else stream.once('close', () => resolve());
      });
      return (await this.request<{ ExitCode: number | null }>('GET', `/exec/${execId}/json`)).ExitCode ?? -1;
    };
    const resize = async (rows: number, cols: number) => {
      await this.request('POST', `/exec/${execId}/resize${query({ h: rows, w: cols })}`).catch(
        () => undefined,
      );
    };
    return { stream, exitCode, resize };
  }

  getArchive(id: string, path: string): Promise<Buffer | undefined> {
    return getArchive(this.transport, id, path);
  }

  // Image inspection, volumes and networks live in docker-resources.ts.
  private readonly bound = <T>(method: string, path: string, body?: unknown) =>
    this.request<T>(method, path, body);
  inspectImage = (ref: string) => inspectImage(this.bound, ref);
  volumeExists = (name: string) => volumeExists(this.bound, name);
  volumePath = (name: string) => volumePath(this.bound, this.endpoint, name);
  createVolume = (name: string, labels: Record<string, string>) => createVolume(this.bound, name, labels);
  removeVolume = (name: string) => removeVolume(this.bound, name);
  listVolumes = (labelFilter: string[]) => listVolumes(this.docker(), labelFilter);
  networkExists = (name: string) => networkExists(this.bound, name);
  createNetwork = (name: string, opts: { internal?: boolean; labels: Record<string, string> }) =>
    createNetwork(this.docker(), name, opts);
  removeNetwork = (name: string) => removeNetwork(this.bound, name);
  listNetworks = (labelFilter: string[]) => listNetworks(this.docker(), labelFilter);
  connectNetwork = (network: string, container: string, aliases?: string[]) =>
    connectNetwork(this.bound, network, container, aliases);
  disconnectNetwork = (network: string, container: string) =>
    disconnectNetwork(this.bound, network, container);
}
