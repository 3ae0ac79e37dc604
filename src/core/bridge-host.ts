/**
 * Detached runs' host bridges served by the daemon, in its own process: one Node process for every
 * run's bridge instead of one per run (~26-32 MB each, bench/scale). Each run still gets a session
 * of its own (bridge/session-host.ts): its own socket in its workspace's gateway folder, its own
 * token digest, command store, approvals and confinement; nothing is shared between sessions but
 * the process. Runs the daemon starts use the BridgeHost directly; a CLI run asks over the daemon's
 * Unix socket (`daemonSessionHost`) and falls back to a bridge process of its own when no daemon
 * answers or it declines.
 *
 * The daemon stopping or dying does not end the sandboxes: each session's state file keeps what is
 * needed to serve it again (the token's sha256, never the token), and the next daemon serves every
 * session whose container still runs (and ends those whose container exited meanwhile, with their
 * services and a "finished" notification). Until then the agent's bridge calls fail, and `corral
 * list` says the bridge is down.
 */
import { existsSync } from 'node:fs';
import { appendFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DaemonConfig } from '../bridge/daemon-spawn.js';
import type { HostedSession } from '../bridge/session-host.js';
import type { BridgeState } from '../bridge/session-state.js';
import { dataFile } from '../config/json-store.js';
import type { BridgeSettings } from '../config/schema.js';
import { type ContainerEngine, type EngineReconnect, reconnectEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { CoreContext } from './context.js';
import { daemonCall } from './daemon-client.js';
import { daemonPaths } from './daemon-paths.js';

/** What a run hands its bridge host: the session, and how host commands start. */
export interface HostBridgeRequest extends DaemonConfig {
  /** The run's data folder: a daemon serves only runs that keep their state where it does. */
  dataDir: string;
  hostCommands: BridgeSettings;
  /** Host commands' environment, already filtered by the run (filtered again here). */
  hostEnv: Record<string, string>;
}

/** Where a detached run's bridge is served, other than a process of its own. */
export interface SessionHost {
  /** Resolves when the session's socket listens. */
  open(r: HostBridgeRequest): Promise<void>;
  /** The sandbox started: the session watches it and ends with it. */
  watch(session: string, containerId: string): Promise<void>;
  /** The run failed before its sandbox started. */
  abort(session: string): Promise<void>;
}

export const currentDataDir = (): string => resolve(dataFile('.'));

export class BridgeHost implements SessionHost {
  private readonly sessions = new Map<string, HostedSession>();
  private readonly engines = new Map<string, Promise<ContainerEngine>>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly log: (line: string) => void,
  ) {}

  /** Sessions being served now. */
  get size(): number {
    return this.sessions.size;
  }

  private async engine(endpoint: string, reconnect?: EngineReconnect): Promise<ContainerEngine> {
    const own = await this.ctx.engine().catch(() => undefined);
    if (own?.endpoint === endpoint && JSON.stringify(own.reconnect) === JSON.stringify(reconnect)) return own;
    const key = JSON.stringify([endpoint, reconnect]);
    let e = this.engines.get(key);
    if (!e) {
      e = reconnectEngine(endpoint, reconnect);
      this.engines.set(key, e);
      e.catch(() => this.engines.delete(key));
    }
    return e;
  }

  /** The session's lines go to its own log (as a bridge process's do), tagged in the daemon's. */
  private sessionLog(session: string, path: string): (line: string) => void {
    return (line) => {
      void appendFile(path, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 }).catch(() => {});
      this.log(`bridge ${session}: ${line}`);
    };
  }

  async open(r: HostBridgeRequest): Promise<void> {
    await this.check(r);
    const { bridgeLogPath } = await import('../bridge/session-state.js');
    const { hostBridgeSession } = await import('../bridge/session-host.js');
    const config: DaemonConfig = {
      workspace: r.workspace,
      session: r.session,
      tokenSha256: r.tokenSha256,
      socketPath: r.socketPath,
      agent: r.agent,
      container: r.container,
      engine: r.engine,
      ...(r.reconnect ? { reconnect: r.reconnect } : {}),
      ...(r.relayed ? { relayed: true } : {}),
      approvalTimeoutMs: r.approvalTimeoutMs,
      ...(r.notifyTty ? { notifyTty: r.notifyTty } : {}),
    };
    const engine = this.engine(r.engine, r.reconnect);
    engine.catch(() => {});
    const s = await hostBridgeSession(config, {
      engine,
      log: this.sessionLog(r.session, bridgeLogPath(r.session)),
      pid: process.pid,
      host: 'daemon',
      hostCommands: r.hostCommands,
      hostEnv: r.hostEnv,
    });
    this.keep(s);
  }

  private keep(s: HostedSession): void {
    this.sessions.set(s.session, s);
    void s.ended.then(() => {
      if (this.sessions.get(s.session) === s) this.sessions.delete(s.session);
    });
  }

  /**
   * What the daemon will not serve: a run keeping its state elsewhere, a session it serves already,
   * or a socket anywhere but the run's own workspace's gateway folder.
   */
  private async check(r: HostBridgeRequest): Promise<void> {
    if (resolve(r.dataDir) !== currentDataDir())
      throw new CorralError(
        'BAD_INPUT',
        'This run keeps its state in another data folder than the daemon.',
        'Its bridge runs in a process of its own.',
      );
    if (this.sessions.has(r.session))
      throw new CorralError('BAD_INPUT', `The daemon already serves bridge session ${r.session}.`);
    const [{ realpath }, { gatewayDirs }, { workspaceIdOf }] = await Promise.all([
      import('node:fs/promises'),
      import('../gateway/folders.js'),
      import('../workspace/identity.js'),
    ]);
    if ((await realpath(r.workspace).catch(() => '')) !== r.workspace)
      throw new CorralError('WORKSPACE_INVALID', `${r.workspace} is not a workspace's real path.`);
    const engine = await this.engine(r.engine, r.reconnect);
    const expected = join(gatewayDirs(engine, workspaceIdOf(r.workspace)).sock, `bridge-${r.session}.sock`);
    if (r.socketPath !== expected)
      throw new CorralError(
        'BAD_INPUT',
        `A bridge socket must be in its workspace's gateway folder (${expected}).`,
      );
  }

  async watch(session: string, containerId: string): Promise<void> {
    const s = this.sessions.get(session);
    if (!s) throw new CorralError('NOT_FOUND', `The daemon serves no bridge session ${session}.`);
    await s.watch(containerId);
  }

  async abort(session: string): Promise<void> {
    await this.sessions.get(session)?.end('the run gave up before the sandbox started');
  }

  /**
   * A daemon starting: serve again every session a daemon served whose sandbox still runs; end
   * those whose sandbox exited while no daemon ran. Returns how many it serves again.
   */
  async resume(): Promise<number> {
    const { bridgeAlive, bridgeLogPath, bridgeStateDir, readBridgeState, updateBridgeState } = await import(
      '../bridge/session-state.js'
    );
    const { hostBridgeSession } = await import('../bridge/session-host.js');
    let served = 0;
    for (const name of await readdir(bridgeStateDir()).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const st = await readBridgeState(name.slice(0, -'.json'.length));
      if (!orphaned(st) || this.sessions.has(st.session)) continue;
      // Another daemon on the same data folder still serves it.
      if (st.pid !== process.pid && bridgeAlive(st)) continue;
      const log = this.sessionLog(st.session, bridgeLogPath(st.session));
      try {
        const engine = await this.engine(st.engine, st.reconnect);
        const details = await engine.inspect(st.containerId ?? st.container);
        const config: DaemonConfig = {
          workspace: st.workspace,
          session: st.session,
          tokenSha256: st.tokenSha256,
          socketPath: st.socket,
          agent: st.agent,
          container: st.container,
          engine: st.engine,
          ...(st.reconnect ? { reconnect: st.reconnect } : {}),
          ...(st.relayed ? { relayed: true } : {}),
          approvalTimeoutMs: st.approvalTimeoutMs ?? 60_000,
          ...(st.notifyTty ? { notifyTty: st.notifyTty } : {}),
        };
        const containerId = st.containerId ?? details?.id ?? st.container;
        if (!details?.running) {
          // Ended while nobody served it: its services go and it says so, as when it is watched.
          const s = await hostBridgeSession(config, {
            engine: Promise.resolve(engine),
            log,
            pid: process.pid,
            host: 'daemon',
            resumed: { containerId },
          }).catch(() => undefined);
          if (s) await s.end('container exited', details?.exitCode);
          else await updateBridgeState(st.session, { ended: Date.now() });
          continue;
        }
        // Host commands get the daemon's environment, filtered: the run's listed values were not kept.
        const serve = () =>
          hostBridgeSession(config, {
            engine: Promise.resolve(engine),
            log,
            pid: process.pid,
            host: 'daemon',
            resumed: { containerId },
          });
        this.keep(await retryInUse(serve));
        log('served again by a new daemon');
        served++;
      } catch (e) {
        log(`not served again: ${(e as Error).message}`);
      }
    }
    return served;
  }

  /** The daemon stops: close every session's socket and leave it to the next daemon. */
  async suspend(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.suspend()));
    this.sessions.clear();
  }
}

/**
 * A daemon started right after one was killed can find the old sockets still answering for a
 * moment (the killed process's last threads still hold them): try again for a few seconds.
 */
async function retryInUse<T>(fn: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries || !/is in use/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

type Orphan = BridgeState & {
  host: 'daemon';
  tokenSha256: string;
  engine: string;
  socket: string;
};

function orphaned(st: BridgeState | undefined): st is Orphan {
  return Boolean(st && st.host === 'daemon' && !st.ended && st.tokenSha256 && st.engine && st.socket);
}

/** A CLI run's way to the daemon's BridgeHost: over the daemon's Unix socket (0600, this user's). */
export function daemonSessionHost(env: NodeJS.ProcessEnv): SessionHost | undefined {
  const paths = daemonPaths(env);
  if (!existsSync(paths.socket)) return undefined;
  const at = (session: string) => `/api/bridges/${encodeURIComponent(session)}`;
  return {
    open: async (r) => {
      await daemonCall(paths, 'POST', '/api/bridges', r);
    },
    watch: async (session, containerId) => {
      await daemonCall(paths, 'POST', `${at(session)}/watch`, { containerId });
    },
    abort: async (session) => {
      await daemonCall(paths, 'DELETE', at(session));
    },
  };
}

/** Who serves a detached run's bridge besides a process of its own: this daemon, or the running one. */
export async function sessionHostFor(
  ctx: CoreContext,
): Promise<{ sessions: SessionHost; inProcess: boolean } | undefined> {
  if (ctx.options.bridgeHost) return { sessions: ctx.options.bridgeHost, inProcess: true };
  const viaSocket = daemonSessionHost(ctx.env);
  return viaSocket ? { sessions: viaSocket, inProcess: false } : undefined;
}
