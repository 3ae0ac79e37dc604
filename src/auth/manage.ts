/**
 * `corral auth import | list | logout`, as services: where each agent's login lives (the host
 * store for brokered OAuth logins, the profile's state volume for the rest) and how it moves.
 * Nothing here prints or returns a token value.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { dataFile } from '../config/json-store.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { LABELS, legacyHomeVolumeName } from '../workspace/identity.js';
import { parseAgentFile } from './formats.js';
import { readLoginFiles, SEED_APPLIED, saveLoginFiles } from './login-files.js';
import { authDir } from './paths.js';
import { readLogin, removeAuthDir, saveLogin } from './store.js';
import { removeVolumeFiles } from './volume.js';

/** The lead's long-lived token (`corral auth setup-token`) sits beside the brokered login. */
export const TOKEN_FILE = 'token';

export interface ImportResult {
  where: 'store';
  files: string[];
  expiresAt?: number;
}

async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CorralError(
      'BAD_INPUT',
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      'Log in with the agent on this machine first, or point --from at its credentials file.',
    );
  }
}

/** Copy the user's host login for an agent into the profile's store. */
export async function importLogin(
  agent: AgentSpec,
  profile: string,
  opts: { from?: string; home?: string },
): Promise<ImportResult> {
  const home = opts.home ?? homedir();
  if (agent.oauth) {
    const path = opts.from ?? join(home, agent.oauth.file);
    const login = parseAgentFile(agent.oauth.format, await readSource(path));
    if (!login) {
      throw new CorralError(
        'BAD_INPUT',
        `${path} holds no ${agent.displayName} OAuth login.`,
        `Expected the shape of ~/${agent.oauth.file}; for an API key, pass it with -e instead.`,
      );
    }
    await saveLogin(authDir(agent.name, profile), login);
    return { where: 'store', files: [path], expiresAt: login.expiresAt };
  }
  if (!agent.loginFiles.length) {
    throw new CorralError('BAD_INPUT', `corral does not know where ${agent.displayName} keeps its login.`);
  }
  const files: Record<string, string> = {};
  if (opts.from) {
    if (agent.loginFiles.length > 1) {
      throw new CorralError(
        'BAD_INPUT',
        `${agent.displayName} keeps its login in several files (${agent.loginFiles.join(', ')}).`,
        'Import from your home folder without --from.',
      );
    }
    files[agent.loginFiles[0]!] = await readSource(opts.from);
  } else {
    for (const rel of agent.loginFiles) {
      if (existsSync(join(home, rel))) files[rel] = await readFile(join(home, rel), 'utf8');
    }
  }
  if (!Object.keys(files).length) {
    throw new CorralError(
      'BAD_INPUT',
      `No ${agent.displayName} login found in ${home} (looked for ${agent.loginFiles.map((f) => `~/${f}`).join(', ')}).`,
      'Log in with the agent on this machine first, or pass --from FILE.',
    );
  }
  // The profile's login lives in the host store; each workspace's home gets it at its next start.
  await saveLoginFiles(agent.name, profile, files);
  return { where: 'store', files: Object.keys(files).map((f) => `~/${f}`) };
}

export interface ProfileStatus {
  agent: string;
  profile: string;
  /** Some workspace has a home for this agent and profile (undefined: the engine did not answer). */
  volume?: boolean;
  /** How many workspaces have one. */
  homes?: number;
  /** Login files (agents without a brokered login) are in the store. */
  files: boolean;
  /** A brokered OAuth login is in the host store; when its access token expires. */
  brokered: boolean;
  expiresAt?: string;
  /** A long-lived token (`corral auth setup-token`) is stored. */
  token: boolean;
}

async function storeProfiles(): Promise<[string, string][]> {
  const root = dataFile('auth');
  const out: [string, string][] = [];
  for (const agent of await readdir(root).catch(() => [] as string[])) {
    for (const profile of await readdir(join(root, agent)).catch(() => [] as string[]))
      out.push([agent, profile]);
  }
  return out;
}

export async function listProfiles(engine: ContainerEngine | undefined): Promise<ProfileStatus[]> {
  const volumes = engine
    ? await engine.listVolumes([`${LABELS.managed}=true`, `${LABELS.role}=state`]).catch(() => undefined)
    : undefined;
  const keys = new Map<string, [string, string]>();
  for (const v of volumes ?? []) {
    const a = v.labels[LABELS.agent];
    const p = v.labels[LABELS.profile];
    if (a && p) keys.set(`${a}/${p}`, [a, p]);
  }
  for (const [a, p] of await storeProfiles()) keys.set(`${a}/${p}`, [a, p]);
  const homes = (a: string, p: string) =>
    (volumes ?? []).filter(
      (v) => v.labels[LABELS.agent] === a && v.labels[LABELS.profile] === p && v.labels[LABELS.workspace],
    ).length;
  const rows: ProfileStatus[] = [];
  for (const [agent, profile] of [...keys.values()].sort((x, y) => x.join('/').localeCompare(y.join('/')))) {
    let dir: string;
    try {
      dir = authDir(agent, profile);
    } catch {
      continue; // a folder someone made by hand with a name corral would never use
    }
    const login = await readLogin(dir);
    rows.push({
      agent,
      profile,
      ...(volumes ? { volume: homes(agent, profile) > 0, homes: homes(agent, profile) } : {}),
      brokered: Boolean(login),
      files: Object.keys(await readLoginFiles(agent, profile)).length > 0,
      ...(login ? { expiresAt: new Date(login.expiresAt).toISOString() } : {}),
      token: existsSync(join(dir, TOKEN_FILE)),
    });
  }
  return rows;
}

export interface LogoutResult {
  store: boolean;
  volumeFiles: string[];
  /** Workspace homes (and an old shared home) the login files were removed from. */
  volumes: string[];
}

/**
 * Forget a profile's login: the host folder (login, placeholders, login files, token) and the login
 * files in every workspace's home of the profile, and in its old shared home if it still exists.
 */
export async function logout(
  agent: AgentSpec,
  profile: string,
  engine: () => Promise<{ engine: ContainerEngine; image: string } | undefined>,
): Promise<LogoutResult> {
  const store = await removeAuthDir(authDir(agent.name, profile));
  const files = [...new Set([...(agent.oauth ? [agent.oauth.file] : []), ...agent.loginFiles])];
  const e = await engine();
  if (!e || !files.length) return { store, volumeFiles: [], volumes: [] };
  const homes = await e.engine.listVolumes([
    `${LABELS.managed}=true`,
    `${LABELS.agent}=${agent.name}`,
    `${LABELS.profile}=${profile}`,
  ]);
  const volumes = homes.filter((v) => v.labels[LABELS.role] === 'state').map((v) => v.name);
  const legacy = legacyHomeVolumeName(agent.name, profile);
  if (!volumes.includes(legacy) && (await e.engine.volumeExists(legacy))) volumes.push(legacy);
  // The copies a home was seeded with go too, so nothing of the login is left behind.
  const rels = [...files, ...files.map((f) => `${SEED_APPLIED}/${f}`)];
  for (const v of volumes) await removeVolumeFiles(e.engine, e.image, v, rels);
  return { store, volumeFiles: volumes.length ? files.map((f) => `~/${f}`) : [], volumes };
}
