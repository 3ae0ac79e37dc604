/**
 * Logins kept in files (agents without a brokered OAuth login: Gemini, OpenCode, pi, Copilot, …).
 * The profile's login lives on the host, in `<data>/auth/<agent>/<profile>/login-files.json` (0600);
 * each workspace's home gets a copy at start, and a login the agent made or refreshed in the
 * sandbox comes back to the store when an attached run ends. Nothing else of a home is shared.
 *
 * The copy is written only when the store changed since this home last got it (the init compares
 * with the copy it applied last), so a login the sandbox refreshed is not overwritten by an older
 * one. What comes back is checked for shape first: these files cross from one workspace to every
 * other, so they must stay data (JSON, or `KEY=value` secrets), never something a shell would run.
 */
import { posix } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { readJson, writeJson } from '../config/json-store.js';
import { shellQuote } from '../engine/command-line.js';
import type { ContainerEngine } from '../engine/index.js';
import { authDir } from './paths.js';
import { ensureAuthDir, withLock } from './store.js';
import { readHomeFile } from './volume.js';

export const LOGIN_FILES = 'login-files.json';
const SEED_DIR = '.corral/login-seed';
/** Where a home keeps the copy of the login it was last given (relative to $HOME). */
export const SEED_APPLIED = `${SEED_DIR}/applied`;
const MAX_BYTES = 256 * 1024;
/** A line of a login `.env`: a key or token variable with a plain value, nothing a shell expands. */
const ENV_LINE = /^[A-Z][A-Z0-9_]*(KEY|TOKEN)=[A-Za-z0-9._~+/=:-]*$/;

/** relative path → content */
export type LoginFiles = Record<string, string>;

const storePath = (agent: string, profile: string) => posix.join(authDir(agent, profile), LOGIN_FILES);

export async function readLoginFiles(agent: string, profile: string): Promise<LoginFiles> {
  const raw = await readJson<Record<string, unknown>>(storePath(agent, profile));
  const out: LoginFiles = {};
  for (const [rel, v] of Object.entries(raw)) if (typeof v === 'string') out[rel] = v;
  return out;
}

/** Merge files into the profile's login (under the profile's lock). */
export async function saveLoginFiles(agent: string, profile: string, files: LoginFiles): Promise<void> {
  const dir = authDir(agent, profile);
  await ensureAuthDir(dir);
  await withLock(dir, async () => {
    await writeJson(storePath(agent, profile), { ...(await readLoginFiles(agent, profile)), ...files });
  });
}

/** Forget one file of the profile's login (it moved to the brokered store). */
export async function dropLoginFile(agent: string, profile: string, rel: string): Promise<void> {
  const dir = authDir(agent, profile);
  await withLock(dir, async () => {
    const { [rel]: _gone, ...rest } = await readLoginFiles(agent, profile);
    await writeJson(storePath(agent, profile), rest);
  });
}

/** The file's text if it is login-shaped data, else undefined. */
export function loginShaped(rel: string, text: string): string | undefined {
  if (!text.trim() || Buffer.byteLength(text) > MAX_BYTES) return undefined;
  if (rel.endsWith('.json')) {
    try {
      const v = JSON.parse(text) as unknown;
      return typeof v === 'object' && v !== null ? text : undefined;
    } catch {
      return undefined;
    }
  }
  if (posix.basename(rel) === '.env') {
    const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    return lines.length && lines.every((l) => ENV_LINE.test(l.trim())) ? text : undefined;
  }
  return undefined;
}

/**
 * The start's part: files (under $HOME) and init lines that give the workspace's home the
 * profile's login when it is new there. Empty when the store holds none.
 */
export function seedLogin(files: LoginFiles): { files: Record<string, string>; init: string[] } {
  const rels = Object.keys(files);
  if (!rels.length) return { files: {}, init: [] };
  const out: Record<string, string> = {};
  const init: string[] = [];
  for (const rel of rels) {
    out[`${SEED_DIR}/new/${rel}`] = files[rel]!;
    const q = shellQuote(rel);
    const [fresh, applied, target] = [
      `"$HOME"/${SEED_DIR}/new/${q}`,
      `"$HOME"/${SEED_DIR}/applied/${q}`,
      `"$HOME"/${q}`,
    ];
    init.push(
      `if ! cmp -s ${fresh} ${applied} 2>/dev/null; then mkdir -p "$(dirname ${target})" "$(dirname ${applied})" && cp ${fresh} ${target} && chmod 600 ${target} && cp ${fresh} ${applied}; fi`,
    );
  }
  init.push(`rm -rf "$HOME"/${SEED_DIR}/new`);
  return { files: out, init };
}

/**
 * After an attached run: the login files the sandbox holds that differ from the store and are
 * login-shaped go into the store. Returns the paths it took.
 */
export async function captureLogin(
  engine: ContainerEngine,
  container: string,
  agent: AgentSpec,
  profile: string,
): Promise<string[]> {
  const stored = await readLoginFiles(agent.name, profile);
  const changed: LoginFiles = {};
  for (const rel of agent.loginFiles) {
    const text = await readHomeFile(engine, container, rel).catch(() => undefined);
    if (text === undefined || text === stored[rel]) continue;
    const ok = loginShaped(rel, text);
    if (ok !== undefined) changed[rel] = ok;
  }
  if (Object.keys(changed).length) await saveLoginFiles(agent.name, profile, changed);
  return Object.keys(changed);
}

/**
 * A run of an agent whose login is files: the workspace home gets the profile's login (see
 * seedLogin), and an attached run hands back a login made or refreshed in it.
 */
export async function planFileLogin(
  engine: ContainerEngine,
  agent: AgentSpec,
  spec: { profile: string; detached: boolean; files: Record<string, string>; init: string[] },
  note: (line: string) => void,
): Promise<{ brokered: never[]; afterRun: (container?: string) => Promise<void> }> {
  if (!agent.loginFiles.length) return { brokered: [], afterRun: async () => {} };
  const seed = seedLogin(await readLoginFiles(agent.name, spec.profile));
  spec.files = { ...spec.files, ...seed.files };
  spec.init = [...seed.init, ...spec.init];
  return {
    brokered: [],
    afterRun: async (container) => {
      if (!container || spec.detached) return;
      const took = await captureLogin(engine, container, agent, spec.profile);
      if (took.length)
        note(
          `corral: kept the ${agent.name} login (${took.map((f) => `~/${f}`).join(', ')}) for profile ${spec.profile}.`,
        );
    },
  };
}
