/**
 * What `corral run` does with a brokered OAuth login: adopt a real login it finds in the profile's
 * volume into the host store, hand the gateway what it injects, and give the sandbox a credentials
 * file with placeholders. Loaded only for agents with an `oauth` spec.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import type { Config } from '../config/schema.js';
import type { BrokeredLogin } from '../gateway/settings.js';
import { isPlaceholder, parseAgentFile, placeholderLogin, renderAgentFile } from './formats.js';
import { authDir } from './paths.js';
import { ensureAuthDir, readLogin, readPlaceholders, saveLogin } from './store.js';

export interface RunLogin {
  brokered: BrokeredLogin;
  /** The placeholder credentials file, path relative to $HOME. */
  file: { path: string; content: string };
}

/** Set once the profile's volume was looked at and held no login, so later starts skip the look. */
const CHECKED = 'volume-checked';

/**
 * Store a real login found in the volume's credentials file. Returns whether it did: a placeholder
 * file, an empty one, or none at all leaves the store alone.
 */
export async function adopt(agent: AgentSpec, profile: string, text: string | undefined): Promise<boolean> {
  if (!agent.oauth || text === undefined) return false;
  const dir = authDir(agent.name, profile);
  const found = parseAgentFile(agent.oauth.format, text);
  if (!found || isPlaceholder(found, await readPlaceholders(dir))) return false;
  await saveLogin(dir, found);
  return true;
}

/**
 * A login kept as files before corral brokered this agent (Gemini, Qwen: src/auth/login-files.ts)
 * moves into the login store once; the files' copy of it is dropped.
 */
export async function adoptFromLoginFiles(agent: AgentSpec, profile: string): Promise<boolean> {
  if (!agent.oauth || (await readLogin(authDir(agent.name, profile)))) return false;
  const { readLoginFiles, dropLoginFile } = await import('./login-files.js');
  const text = (await readLoginFiles(agent.name, profile))[agent.oauth.file];
  if (text === undefined || !(await adopt(agent, profile, text))) return false;
  await dropLoginFile(agent.name, profile, agent.oauth.file);
  return true;
}

/** Whether the start should look in the volume for a login to adopt (costs a helper container). */
export async function shouldLookInVolume(agent: AgentSpec, profile: string): Promise<boolean> {
  if (!agent.oauth) return false;
  const dir = authDir(agent.name, profile);
  return !(await readLogin(dir)) && !existsSync(join(dir, CHECKED));
}

export async function markVolumeChecked(agent: AgentSpec, profile: string): Promise<void> {
  const dir = authDir(agent.name, profile);
  await ensureAuthDir(dir);
  await writeFile(join(dir, CHECKED), '');
}

export async function loginForRun(
  agent: AgentSpec,
  profile: string,
  config: Config,
): Promise<RunLogin | undefined> {
  const oauth = agent.oauth;
  if (!oauth) return undefined;
  const dir = authDir(agent.name, profile);
  const login = await readLogin(dir);
  if (!login) return undefined;
  const ph = (await readPlaceholders(dir)) ?? (await saveLogin(dir, login));
  return {
    brokered: {
      agent: agent.name,
      profile,
      hosts: oauth.hosts,
      placeholder: ph.access,
      tokenUrl: config.agents[agent.name]?.oauth_token_url ?? oauth.tokenUrl,
      clientId: oauth.clientId,
      ...(oauth.clientSecret ? { clientSecret: oauth.clientSecret } : {}),
      ...(oauth.tokenBody !== 'json' ? { tokenBody: oauth.tokenBody } : {}),
      scopes: oauth.scopes,
    },
    file: { path: oauth.file, content: renderAgentFile(placeholderLogin(login, ph)) },
  };
}
