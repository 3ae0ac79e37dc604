/**
 * What corral knows about a detached run's bridge, one small file per session (container labels
 * cannot change after create): the bridge process, where it logs, and the last notification the
 * agent sent, which `corral list` shows. Light on purpose: `corral list` reads it.
 */
import { readFileSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { EngineReconnect } from '../engine/index.js';

export interface BridgeState {
  session: string;
  workspace: string;
  agent: string;
  container: string;
  /** The detached bridge process, while it runs. */
  pid?: number;
  socket?: string;
  log?: string;
  lastNotification?: { title: string; body: string; at: number };
  /** When the sandbox exited (the bridge is gone by then). */
  ended?: number;
  /**
   * Served by the daemon rather than a process of its own: what a restarted daemon needs to serve
   * the session again (the token's sha256, never the token; the engine; the container's id).
   */
  host?: 'daemon';
  tokenSha256?: string;
  engine?: string;
  /** Kubernetes: how to connect again, and that the engine relays the socket (DaemonConfig). */
  reconnect?: EngineReconnect;
  relayed?: boolean;
  containerId?: string;
  approvalTimeoutMs?: number;
  notifyTty?: string;
}

const SESSION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const bridgeStateDir = (): string => dataFile('bridges');

export function bridgeStatePath(session: string): string {
  if (!SESSION.test(session) || session.includes('..')) throw new Error(`invalid session id ${session}`);
  return join(bridgeStateDir(), `${session}.json`);
}

export const bridgeLogPath = (session: string): string => bridgeStatePath(session).replace(/\.json$/, '.log');

export async function readBridgeState(session: string): Promise<BridgeState | undefined> {
  if (!SESSION.test(session)) return undefined;
  const s = (await readJson<BridgeState>(bridgeStatePath(session))) as Partial<BridgeState>;
  return s.session === session ? (s as BridgeState) : undefined;
}

export async function writeBridgeState(state: BridgeState): Promise<void> {
  await writeJson(bridgeStatePath(state.session), state);
}

/** Merge `patch` into the session's state (one writer: the session's bridge process). */
export async function updateBridgeState(session: string, patch: Partial<BridgeState>): Promise<void> {
  const current = await readBridgeState(session);
  if (current) await writeBridgeState({ ...current, ...patch });
}

/** Forget sessions that ended more than `maxAgeMs` ago (their state and log). */
export async function pruneBridgeStates(maxAgeMs = 7 * 86_400_000, now = Date.now()): Promise<void> {
  const dir = bridgeStateDir();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > maxAgeMs) await unlink(path).catch(() => {});
  }
}

/**
 * Whether the session's bridge process still runs. Its pid alone is not enough: over hundreds of
 * runs the pid of one long gone is reused by some other process (seen in bench/soak). A session the
 * daemon serves is live while the daemon runs and has not marked it ended.
 */
export const bridgeAlive = (state: BridgeState): boolean => {
  const { pid } = state;
  if (!pid || (state.host === 'daemon' && state.ended)) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return state.host === 'daemon' ? cmdline.includes('corral-daemon') : cmdline.includes('bridge\0serve');
  } catch {
    return true;
  }
};

/**
 * Wait (up to `waitMs`) until the live sessions of these containers (by name) have ended: their
 * bridge closed, its socket removed and the ending written. `corral stop` returns once the run is
 * down, not while its bridge is still closing (the soak test found its socket a moment later).
 */
export async function waitSessionsEnded(containers: readonly string[], waitMs = 5_000): Promise<void> {
  const names = new Set(containers);
  const live: BridgeState[] = [];
  for (const name of await readdir(bridgeStateDir()).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const state = await readBridgeState(name.slice(0, -'.json'.length));
    if (state && names.has(state.container) && !state.ended && bridgeAlive(state)) live.push(state);
  }
  const end = Date.now() + waitMs;
  for (let state of live) {
    while (!state.ended && bridgeAlive(state) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await readBridgeState(state.session)) ?? { ...state, ended: Date.now() };
    }
  }
}

/**
 * Forget every session of a workspace (state and log), for `corral clean`. A bridge process still
 * running ends with its sandbox, which the clean has just removed: wait for it to exit (it writes
 * its ending and last notice into the state), so the file is not written again once it is gone;
 * one that outlives the wait is left alone. Returns the sessions forgotten.
 */
export async function forgetWorkspaceSessions(workspace: string, waitMs = 5_000): Promise<string[]> {
  const dir = bridgeStateDir();
  const forgotten: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const session = name.slice(0, -'.json'.length);
    let state = await readBridgeState(session);
    if (!state || state.workspace !== workspace) continue;
    for (const end = Date.now() + waitMs; state && bridgeAlive(state) && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await readBridgeState(session)) ?? state;
    }
    if (bridgeAlive(state)) continue;
    await unlink(bridgeStatePath(state.session)).catch(() => {});
    await unlink(bridgeLogPath(state.session)).catch(() => {});
    forgotten.push(state.session);
  }
  return forgotten;
}
