/**
 * Homes used to be one volume per agent and profile, `corral-<agent>-<profile>-home`, mounted in
 * every workspace. Now each workspace has its own; the first start of a profile moves the login out
 * of the old volume into the host store (a brokered login into oauth.json, file logins into
 * login-files.json) and nothing else: the rest of that volume (shell files, hooks, histories) is
 * exactly what must not reach other workspaces. The old volume is never mounted again; `corral
 * clean --all` removes it. Each profile is looked at once (recorded in legacy-homes.json).
 */
import { existsSync } from 'node:fs';
import type { AgentSpec } from '../agents/types.js';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { ContainerEngine } from '../engine/index.js';
import { legacyHomeVolumeName } from '../workspace/identity.js';
import { type LoginFiles, loginShaped, readLoginFiles, saveLoginFiles } from './login-files.js';
import { authDir } from './paths.js';
import { readLogin } from './store.js';
import { readVolumeFile } from './volume.js';

const recordPath = () => dataFile('legacy-homes.json');

/** Move the login of the profile's old shared home into the store (once per profile). */
export async function migrateLegacyHome(
  engine: ContainerEngine,
  image: string,
  agent: AgentSpec,
  profile: string,
  note: (line: string) => void,
): Promise<void> {
  const volume = legacyHomeVolumeName(agent.name, profile);
  const record = recordPath();
  const done = existsSync(record) ? await readJson<Record<string, string>>(record) : {};
  if (done[volume]) return;
  let moved: string[] = [];
  if (await engine.volumeExists(volume)) moved = await moveLogin(engine, image, agent, profile, volume);
  await writeJson(record, {
    ...(await readJson<Record<string, string>>(record)),
    [volume]: new Date().toISOString(),
  });
  if (moved.length)
    note(
      `corral: homes are per workspace now; moved the ${agent.name} login (${moved.join(', ')}) of profile ${profile} out of ${volume} into corral's login store.`,
    );
}

async function moveLogin(
  engine: ContainerEngine,
  image: string,
  agent: AgentSpec,
  profile: string,
  volume: string,
): Promise<string[]> {
  const { adopt } = await import('./run.js');
  const moved: string[] = [];
  // A login already in the store is newer than anything the old volume holds: it stays.
  if (agent.oauth && !(await readLogin(authDir(agent.name, profile)))) {
    if (await adopt(agent, profile, await readVolumeFile(engine, image, volume, agent.oauth.file)))
      moved.push(`~/${agent.oauth.file}`);
  }
  const fileLogins = agent.loginFiles.filter((f) => f !== agent.oauth?.file);
  if (fileLogins.length && !Object.keys(await readLoginFiles(agent.name, profile)).length) {
    const found: LoginFiles = {};
    for (const rel of fileLogins) {
      const text = await readVolumeFile(engine, image, volume, rel);
      const ok = text === undefined ? undefined : loginShaped(rel, text);
      if (ok !== undefined) found[rel] = ok;
    }
    if (Object.keys(found).length) {
      await saveLoginFiles(agent.name, profile, found);
      moved.push(...Object.keys(found).map((f) => `~/${f}`));
    }
  }
  return moved;
}
