/**
 * `kubernetes.workspace: upload`: the sandbox works on a copy of the workspace in a volume of the
 * cluster (a claim, or a node folder without a storage class) instead of the node's own folder, so
 * the cluster may be anywhere. The copy is filled before the sandbox starts and brought back after
 * an attached run and by `corral pull`, with the remote engine's three-way sync (../remote/sync.ts:
 * only what one side changed moves; a file changed on both sides stops it, and nothing moves). The
 * volume is read and written by a short-lived, hardened "files" pod over the API's exec stream.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import envPaths from 'env-paths';
import { CorralError } from '../../errors.js';
import { ShellTree } from '../remote/files.js';
import { LocalTree, type SyncReport, syncTrees } from '../remote/sync.js';
import type { ContainerSpec, Mount } from '../types.js';
import type { Clients } from './client.js';
import { PodShell, Without } from './files.js';
import type { PodLife } from './lifecycle.js';
import { objectName } from './names.js';
import { type PodContext, podFor } from './pod.js';
import { LABELS_FILE, type Resources } from './resources.js';

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const IN_POD = '/corral-workspace';

/** What a later `corral pull` needs to reach the copy again (no sandbox spec then). */
interface CopyMeta {
  image: string;
  user: string;
  /** Workspace paths the sandbox never saw: they do not travel either way. */
  exclude: string[];
}

export interface WorkspaceCopiesDeps {
  c: Clients;
  ns: string;
  res: Resources;
  life: PodLife;
  ensureNamespace: () => Promise<void>;
  /** The pod context (image as the cluster names it, pull policy…) for a corral image. */
  context: (image: string) => Promise<Omit<PodContext, 'volume'>>;
}

export class WorkspaceCopies {
  constructor(
    private readonly d: WorkspaceCopiesDeps,
    /** upload: synced with this machine; git: the sandbox clones into it (sandbox/clone.ts). */
    private readonly mode: 'upload' | 'git',
  ) {}

  /** The volume holding a workspace's copy (the workspace id: sha256 of its real path). */
  volumeOf(path: string): string {
    return `corral-${short(path)}-workspace`;
  }

  private stateFile(path: string, ext: string): string {
    const data = process.env.CORRAL_DATA_DIR ?? envPaths('corral', { suffix: '' }).data;
    const cluster = short(`${this.d.c.server} ${this.d.ns}`);
    return join(data, 'kube-sync', `${cluster}-${short(path)}.${ext}`);
  }

  /**
   * A sandbox spec's workspace mount (the bind mount at its working folder) made a mount of the
   * copy, after the copy is brought up to date; the spec is unchanged when it has no workspace.
   */
  async prepare(spec: ContainerSpec): Promise<ContainerSpec> {
    const ws = spec.mounts.find((m) => m.type === 'bind' && m.target === spec.workdir);
    if (!ws) return spec;
    const inside = (m: Mount) => m !== ws && m.target.startsWith(`${ws.target}/`);
    const meta: CopyMeta = {
      image: spec.image,
      user: spec.user,
      // Bind mounts over it hide files (secrets); volumes over it mask folders (node_modules).
      exclude: [LABELS_FILE, ...spec.mounts.filter(inside).map((m) => m.target.slice(ws.target.length + 1))],
    };
    if (this.mode === 'upload') await this.push(ws.source, meta);
    else await this.ensureVolume(ws.source);
    return {
      ...spec,
      mounts: spec.mounts.map((m) =>
        m === ws ? { type: 'volume', source: this.volumeOf(ws.source), target: ws.target } : m,
      ),
    };
  }

  /** This machine's folder → the copy, where only this side changed; conflicts refused. */
  async push(local: string, meta: CopyMeta): Promise<SyncReport> {
    if (await this.ensureVolume(local)) {
      // A new copy agrees on nothing yet: the whole workspace goes, whatever an old base says.
      await rm(this.stateFile(local, 'json'), { force: true });
    }
    const file = this.stateFile(local, 'meta.json');
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify(meta), { mode: 0o600 });
    return this.withFilesPod(local, meta, (copy) =>
      syncTrees(new Without(new LocalTree(local), meta.exclude), copy, this.stateFile(local, 'json'), 'push'),
    );
  }

  /** Make the workspace's volume unless it exists; true if made. Not `corral clean`'s: it may hold unsaved work. */
  private async ensureVolume(local: string): Promise<boolean> {
    await this.d.ensureNamespace();
    const volume = this.volumeOf(local);
    if (await this.d.res.volumeExists(volume)) return false;
    await this.d.res.createVolume(volume, { 'io.corral.role': 'workspace-copy' });
    return true;
  }

  /** The copy → this machine, where only the sandbox changed; conflicts refused. */
  async pull(local: string): Promise<SyncReport> {
    const meta = await readFile(this.stateFile(local, 'meta.json'), 'utf8').then(
      (t) => JSON.parse(t) as CopyMeta,
      () => undefined,
    );
    if (!meta || !(await this.d.res.volumeExists(this.volumeOf(local)))) {
      throw new CorralError(
        'WORKSPACE_INVALID',
        `${local} was never uploaded to the cluster (${this.d.c.server}), so there is nothing to bring back.`,
        'Start a sandbox there first (corral run / corral shell).',
      );
    }
    return this.withFilesPod(local, meta, (copy) =>
      syncTrees(copy, new Without(new LocalTree(local), meta.exclude), this.stateFile(local, 'json'), 'pull'),
    );
  }

  /** Run `f` on the copy, read and written by a files pod that goes when `f` is done. */
  private async withFilesPod<T>(local: string, meta: CopyMeta, f: (copy: Without) => Promise<T>): Promise<T> {
    const name = objectName(`corral-${short(local)}-files-${process.pid}-${Date.now().toString(36)}`);
    const spec: ContainerSpec = {
      name,
      image: meta.image,
      entrypoint: ['sleep'],
      cmd: ['900'],
      env: {},
      labels: { 'corral.io/files': '1' },
      user: meta.user,
      workdir: IN_POD,
      tty: false,
      openStdin: false,
      mounts: [{ type: 'volume', source: this.volumeOf(local), target: IN_POD }],
      capDrop: ['ALL'],
      noNewPrivileges: true,
      network: 'none',
      memoryBytes: 256 * 2 ** 20,
      readOnlyRootfs: true,
    };
    await this.d.res.ensureNoNetworkPolicy();
    const ctx = await this.d.context(meta.image);
    const pod = podFor(spec, { ...ctx, volume: (v) => this.d.res.volumePlace(v) });
    // Never left behind if this process dies mid-sync: it ends itself.
    pod.spec!.activeDeadlineSeconds = 900;
    this.d.life.hold(name, pod);
    try {
      await this.d.life.start(name);
      const shell = new PodShell(this.d.c, this.d.ns, name);
      const label = `the cluster's copy (volume ${this.volumeOf(local)} in namespace ${this.d.ns})`;
      return await f(new Without(new ShellTree(shell, IN_POD), meta.exclude, label));
    } finally {
      await this.d.life.delete(name, 0).catch(() => undefined);
    }
  }
}
