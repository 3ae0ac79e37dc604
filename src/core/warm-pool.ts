/**
 * The daemon's warm pool: per workspace, agent and profile, `size` sandboxes created and set up
 * but not started (sandbox/warm.ts), made from the last run's resolved spec. A run whose create
 * spec hashes the same takes one (start + attach only); anything different goes cold, and the pool
 * is remade for the new spec (a config or image change invalidates it this way). The pool refills
 * in the background after each take, holds the workspace's gateway up, and removes what it made
 * when the daemon stops. A CLI run with a daemon running takes through the daemon's API.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerEngine } from '../engine/index.js';
import type { SandboxSpec } from '../sandbox/spec.js';
import { toContainerSpec } from '../sandbox/spec.js';
import {
  createWarm,
  isIdleWarm,
  placeholderEnv,
  removeIdleWarm,
  removeLaunchDir,
  sweepLaunchDirs,
  type WarmTaken,
  warmKey,
} from '../sandbox/warm.js';
import { trace } from '../trace.js';
import { LABELS, sessionId } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import { daemonCall } from './daemon-client.js';
import { daemonPaths } from './daemon-paths.js';
import { holdGateway } from './warm.js';

export type { WarmTaken };

/** Where a run asks for a warm sandbox: the daemon's pool, in its process or over its socket. */
export interface WarmSource {
  take(spec: SandboxSpec, key: string): Promise<WarmTaken | undefined>;
  /** The workspace's warm sandboxes go (and none is being made when this resolves). */
  drop(workspaceId: string): Promise<void>;
}

interface Entry {
  key: string;
  spec: SandboxSpec;
  ready: WarmTaken[];
  filling?: Promise<void>;
  again?: boolean;
  dropped?: boolean;
  release: () => void;
}

/**
 * A refill waits this long after the take (or miss) that asked for it: made at once, its create
 * and Podman's runtime set-up (~100 ms of engine CPU) run alongside the start of the run that
 * just took, on the same engine and cores, and slow exactly the start the pool is there to speed.
 */
const REFILL_AFTER_MS = 1000;

export class WarmPool implements WarmSource {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;
  /** Wakes refills waiting out REFILL_AFTER_MS when the pool stops or a workspace is dropped. */
  private wake = new AbortController();

  constructor(
    private readonly ctx: CoreContext,
    private readonly log: (line: string) => void,
  ) {}

  /** config `daemon.warm_pool` (global config): 0 turns the pool off. */
  async size(): Promise<number> {
    return (await this.ctx.config()).daemon?.warm_pool ?? 1;
  }

  async take(spec: SandboxSpec, key: string): Promise<WarmTaken | undefined> {
    if (this.stopped || (await this.size()) === 0) return undefined;
    const id = `${spec.workspace.id}/${spec.agent}/${spec.profile}`;
    let e = this.entries.get(id);
    let taken: WarmTaken | undefined;
    if (!e) {
      e = { key, spec: structuredClone(spec), ready: [], release: () => {} };
      this.entries.set(id, e);
      const entry = e;
      void holdGateway(this.ctx, spec.workspace.id).then((r) => {
        entry.release = r;
      });
    } else if (e.key === key) {
      taken = e.ready.shift();
    } else {
      // What runs need now differs (options, config, image): the old ones go.
      this.log(`warm pool: ${id} changed, remaking it`);
      const old = e.ready.splice(0);
      void this.discard(old);
      e.key = key;
    }
    // A copy: the run goes on to add its own files and bridge to the spec it passed.
    e.spec = structuredClone(spec);
    this.refill(e);
    this.log(`warm pool: ${id} ${taken ? 'taken' : 'missed'}`);
    return taken;
  }

  private refill(e: Entry): void {
    if (e.filling) {
      e.again = true;
      return;
    }
    e.filling = (async () => {
      await sleep(REFILL_AFTER_MS, undefined, { signal: this.wake.signal }).catch(() => undefined);
      const engine = await this.ctx.engine();
      const size = await this.size();
      await sweepLaunchDirs(engine).catch(() => undefined);
      while (!this.stopped && !e.dropped && e.ready.length < size) {
        const key = e.key;
        const w = await createWarm(engine, e.spec, sessionId());
        if (this.stopped || e.dropped || w.key !== key || e.key !== key) {
          await this.discard([w]);
          if (w.key !== key) this.log(`warm pool: a warm ${e.spec.agent} sandbox did not match its run`);
          break;
        }
        e.ready.push(w);
      }
    })()
      .catch((err: Error) => this.log(`warm pool: refill failed: ${err.message}`))
      .finally(() => {
        e.filling = undefined;
        if (e.again && !this.stopped) {
          e.again = false;
          this.refill(e);
        }
      });
  }

  /** Waiting refills go on now (and find the pool stopped or their entry dropped). */
  private interrupt(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  private async discard(list: WarmTaken[]): Promise<void> {
    const engine = await this.ctx.engine();
    await Promise.all(
      list.map(async (w) => {
        await engine.remove(w.id, { force: true }).catch(() => undefined);
        await removeLaunchDir(w.launchDir);
      }),
    );
  }

  /** Forget (and remove) a workspace's warm sandboxes: `corral stop`/`clean` there. */
  async drop(workspaceId: string): Promise<void> {
    for (const [id, e] of this.entries) {
      if (!id.startsWith(`${workspaceId}/`)) continue;
      this.entries.delete(id);
      e.dropped = true;
      e.release();
      this.interrupt();
      await e.filling;
      await this.discard(e.ready.splice(0));
    }
  }

  /** The daemon stops: nothing of the pool stays behind. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.interrupt();
    for (const e of this.entries.values()) {
      e.release();
      await e.filling;
      await this.discard(e.ready.splice(0));
    }
    this.entries.clear();
  }
}

/**
 * Idle warm sandboxes whose maker is gone (a daemon that was killed): removed when a daemon starts.
 * Another live daemon's (another user, a test) are left alone.
 */
export async function reapWarmLeftovers(engine: ContainerEngine): Promise<number> {
  const { isLeftover } = await import('../sandbox/orphans.js');
  const all = await engine.list({ labels: [`${LABELS.managed}=true`], all: true }).catch(() => []);
  const gone = all.filter((c) => isIdleWarm(c) && isLeftover(c, c.labels[LABELS.workspace] ?? ''));
  const ws = new Set(gone.map((c) => c.labels[LABELS.workspace] ?? ''));
  for (const w of ws) await removeIdleWarm(engine, w, (c) => gone.some((g) => g.id === c.id));
  return gone.length;
}

/**
 * A run asks the daemon's pool for a warm sandbox fitting `spec`; undefined: start cold (no
 * daemon, no pool, an engine that cannot rename, ports to relay, or nothing that fits).
 */
export async function takeWarm(
  ctx: CoreContext,
  engine: ContainerEngine,
  spec: SandboxSpec,
): Promise<WarmTaken | undefined> {
  if (!engine.rename || engine.kind === 'kubernetes' || spec.ports.length) return undefined;
  const source = ctx.options.warm ?? daemonSource(ctx);
  if (!source) return undefined;
  const key = warmKey(toContainerSpec(spec), placeholderEnv(spec));
  const taken = await source.take(spec, key).catch(() => undefined);
  trace(taken ? 'warm' : 'no warm');
  return taken;
}

function daemonSource(ctx: CoreContext): WarmSource | undefined {
  const paths = daemonPaths(ctx.env);
  if (!existsSync(paths.socket)) return undefined;
  return {
    take: async (spec, key) =>
      (await daemonCall<{ taken: WarmTaken | null }>(paths, 'POST', '/api/warm/take', { spec, key })).taken ??
      undefined,
    drop: async (workspace) => {
      await daemonCall(paths, 'POST', '/api/warm/drop', { workspace });
    },
  };
}

/**
 * `corral stop`/`clean` in a workspace: the daemon's pool forgets it (finishing any refill first),
 * then whatever idle warm container is left there goes too.
 */
export async function dropWarm(
  ctx: CoreContext,
  engine: ContainerEngine,
  workspaceId: string,
): Promise<void> {
  const source = ctx.options.warm ?? daemonSource(ctx);
  await source?.drop(workspaceId).catch(() => undefined);
  await removeIdleWarm(engine, workspaceId);
}
