/**
 * What corral knows about a detached run's bridge, one small file per session (container labels
 * cannot change after create): the bridge process, where it logs, and the last notification the
 * agent sent, which `corral list` shows. Light on purpose: `corral list` reads it.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dataFile, readJson, writeJson } from '../config/json-store.js';

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
