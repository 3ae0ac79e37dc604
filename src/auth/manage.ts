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
import { homeVolumeName, LABELS } from '../workspace/identity.js';
import { parseAgentFile } from './formats.js';
import { authDir } from './paths.js';
import { readLogin, removeAuthDir, saveLogin } from './store.js';
import { ensureStateVolume, removeVolumeFiles, writeVolumeFiles } from './volume.js';

/** The lead's long-lived token (`corral auth setup-token`) sits beside the brokered login. */
export const TOKEN_FILE = 'token';

export interface ImportResult {
  where: 'store' | 'volume';
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

/** Copy the user's host login for an agent into a profile. `image` runs the volume helper. */
export async function importLogin(
  agent: AgentSpec,
  profile: string,
  opts: { from?: string; home?: string; engine: () => Promise<{ engine: ContainerEngine; image: string }> },
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
  const files: Record<string, string | Buffer> = {};
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
      if (existsSync(join(home, rel))) files[rel] = await readFile(join(home, rel));
    }
  }
  if (!Object.keys(files).length) {
    throw new CorralError(
      'BAD_INPUT',
      `No ${agent.displayName} login found in ${home} (looked for ${agent.loginFiles.map((f) => `~/${f}`).join(', ')}).`,
      'Log in with the agent on this machine first, or pass --from FILE.',
    );
  }
  const { engine, image } = await opts.engine();
  await writeVolumeFiles(engine, image, await ensureStateVolume(engine, agent.name, profile), files);
  return { where: 'volume', files: Object.keys(files).map((f) => `~/${f}`) };
}

export interface ProfileStatus {
  agent: string;
  profile: string;
  /** The profile's state volume exists (undefined: the engine did not answer). */
  volume?: boolean;
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
  const names = new Set(volumes?.map((v) => v.name));
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
      ...(volumes ? { volume: names.has(homeVolumeName(agent, profile)) } : {}),
      brokered: Boolean(login),
      ...(login ? { expiresAt: new Date(login.expiresAt).toISOString() } : {}),
      token: existsSync(join(dir, TOKEN_FILE)),
    });
  }
  return rows;
}

export interface LogoutResult {
  store: boolean;
  volumeFiles: string[];
}

/** Forget a profile's login: the host folder (login, placeholders, token) and the volume's login files. */
export async function logout(
  agent: AgentSpec,
  profile: string,
  engine: () => Promise<{ engine: ContainerEngine; image: string } | undefined>,
): Promise<LogoutResult> {
  const store = await removeAuthDir(authDir(agent.name, profile));
  const files = [...new Set([...(agent.oauth ? [agent.oauth.file] : []), ...agent.loginFiles])];
  const e = await engine();
  const volume = homeVolumeName(agent.name, profile);
  if (!e || !files.length || !(await e.engine.volumeExists(volume))) return { store, volumeFiles: [] };
  await removeVolumeFiles(e.engine, e.image, volume, files);
  return { store, volumeFiles: files.map((f) => `~/${f}`) };
}
