/**
 * Long-lived agent tokens (`corral auth setup-token`): kept on the host, in the OS keyring where
 * one answers, else in a 0600 file in the profile's auth folder, and handed to the agent's env at
 * each start. Behind the gateway that env value becomes a placeholder like any other key, so the
 * token itself never enters the sandbox.
 *
 * Precedence (README "Credentials"): a key the user names (`-e`, env files, config env) wins over
 * the stored token, which wins over the login in the profile's state (credentials file).
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { writeFileAtomic } from '../config/json-store.js';
import type { Keyring } from './keyring.js';
import { authDir } from './paths.js';

const TOKEN_FILE = 'token';
/** In the folder instead of the token when the keyring holds it: says where to look. */
const KEYRING_MARK = 'token.keyring';

export interface StoredToken {
  value: string;
  where: 'keyring' | 'file';
  storedAt: Date;
}

const account = (agent: string, profile: string) => `${agent}/${profile}`;

/** Store a token; returns where it went. A keyring that fails falls back to the file. */
export async function storeToken(
  agent: string,
  profile: string,
  value: string,
  keyring?: Keyring,
): Promise<StoredToken['where']> {
  const dir = authDir(agent, profile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (keyring) {
    try {
      await keyring.store(account(agent, profile), value);
      await writeFileAtomic(join(dir, KEYRING_MARK), `${JSON.stringify({ keyring: keyring.name })}\n`);
      await rm(join(dir, TOKEN_FILE), { force: true });
      return 'keyring';
    } catch {
      // No usable keyring after all (locked, not installed): the file is the documented fallback.
    }
  }
  await writeFileAtomic(join(dir, TOKEN_FILE), `${value}\n`);
  await rm(join(dir, KEYRING_MARK), { force: true });
  return 'file';
}

export async function readStoredToken(
  agent: string,
  profile: string,
  keyring?: Keyring,
): Promise<StoredToken | undefined> {
  const dir = authDir(agent, profile);
  const mark = await stat(join(dir, KEYRING_MARK)).catch(() => undefined);
  if (mark && keyring) {
    const value = await keyring.lookup(account(agent, profile));
    if (value) return { value, where: 'keyring', storedAt: mark.mtime };
  }
  const file = join(dir, TOKEN_FILE);
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  const value = (await readFile(file, 'utf8')).trim();
  return value ? { value, where: 'file', storedAt: info.mtime } : undefined;
}

export async function removeStoredToken(agent: string, profile: string, keyring?: Keyring): Promise<boolean> {
  const dir = authDir(agent, profile);
  const had = Boolean(await readStoredToken(agent, profile, keyring));
  if (keyring && (await stat(join(dir, KEYRING_MARK)).catch(() => undefined)))
    await keyring.clear(account(agent, profile));
  await rm(join(dir, TOKEN_FILE), { force: true });
  await rm(join(dir, KEYRING_MARK), { force: true });
  return had;
}

export type CredentialChoice =
  | { kind: 'env'; name: string }
  | { kind: 'token'; name: string; where: StoredToken['where'] }
  | { kind: 'login' };

/** Which credential the agent will use, by the documented precedence. */
export function chooseCredential(
  agent: AgentSpec,
  env: Record<string, string>,
  token: StoredToken | undefined,
): CredentialChoice {
  const named = agent.authEnv.find((k) => env[k]);
  if (named) return { kind: 'env', name: named };
  if (token && agent.setupToken) return { kind: 'token', name: agent.setupToken.env, where: token.where };
  return { kind: 'login' };
}

/** The env with the stored token added, unless the user named a key of their own. */
export function withStoredToken(
  agent: AgentSpec,
  env: Record<string, string>,
  token: StoredToken | undefined,
): Record<string, string> {
  const choice = chooseCredential(agent, env, token);
  return choice.kind === 'token' && token ? { ...env, [choice.name]: token.value } : env;
}
