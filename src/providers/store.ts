/**
 * Named model providers (`corral provider add`): endpoints the user points agents at with
 * `corral run A --provider NAME`. The records (kind, URL, discovered models, default model) live in
 * one JSON file in corral's data folder; the key never does: it goes to the host's secret store
 * (the OS keyring where one answers, else a 0600 file, as `corral auth setup-token` does) and
 * reaches the sandbox only as a placeholder the egress gateway swaps for it.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { detectKeyring } from '../auth/keyring.js';
import { readStoredToken, removeStoredToken, storeToken } from '../auth/token.js';
import { withFileLock } from '../config/file-lock.js';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import { CorralError } from '../errors.js';

/** The wire families corral can point agents at, by how they list models and take a key. */
export const PROVIDER_KINDS = ['openai', 'anthropic', 'gemini', 'ollama'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export interface Provider {
  name: string;
  kind: ProviderKind;
  /** The endpoint's root, without `/v1` (agents' recipes add their own API paths). */
  url: string;
  models: string[];
  defaultModel?: string | undefined;
  /** When the model list was last read from the endpoint (ISO time). */
  refreshedAt?: string | undefined;
}

interface ProvidersFile {
  providers: Record<string, Provider>;
}

/** Not an agent name (those start with a letter), so no agent's auth folder can collide. */
const KEY_OWNER = '_providers';
const NAME = /^[a-z][a-z0-9-]{0,39}$/;

export const providersFile = (): string => dataFile('providers.json');

export function checkProviderName(name: string): string {
  if (!NAME.test(name)) {
    throw new CorralError(
      'BAD_INPUT',
      `"${name}" is not a provider name.`,
      'Use lowercase letters, digits and dashes, starting with a letter (e.g. ollama, work-gateway).',
    );
  }
  return name;
}

/** The endpoint's root: a trailing slash and an API version path (`/v1`, `/v1beta`) dropped. */
export function normalizeProviderUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CorralError(
      'BAD_INPUT',
      `"${url}" is not a URL.`,
      'Use e.g. https://api.openai.com or http://127.0.0.1:11434',
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CorralError('BAD_INPUT', `"${url}" is not an http(s) URL.`, 'Use e.g. https://api.openai.com');
  }
  if (u.username || u.password || u.search || u.hash) {
    throw new CorralError(
      'BAD_INPUT',
      `The provider URL "${u.origin}…" carries credentials, a query or a fragment.`,
      'Give the endpoint root only; the key is asked for separately.',
    );
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1(beta)?$/, '')}`;
}

async function readAll(): Promise<Record<string, Provider>> {
  return (await readJson<ProvidersFile>(providersFile())).providers ?? {};
}

export async function listProviders(): Promise<Provider[]> {
  return Object.values(await readAll()).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getProvider(name: string): Promise<Provider> {
  const found = (await readAll())[name];
  if (found) return found;
  const known = Object.keys(await readAll());
  throw new CorralError(
    'BAD_INPUT',
    `No provider named "${name}".`,
    known.length
      ? `Known providers: ${known.join(', ')} (\`corral provider list\`).`
      : 'Add one with `corral provider add NAME --kind openai --url URL`.',
  );
}

/** Read-modify-write of the records under a lock (two adds at once both land). */
async function update(fn: (all: Record<string, Provider>) => void): Promise<void> {
  const path = providersFile();
  await mkdir(dirname(path), { recursive: true });
  await withFileLock(path, { lockfilePath: `${path}.lock` }, async () => {
    const all = await readAll();
    fn(all);
    await writeJson(path, { providers: all });
  });
}

export async function saveProvider(p: Provider): Promise<void> {
  await update((all) => {
    all[p.name] = p;
  });
}

export async function deleteProvider(name: string): Promise<boolean> {
  let had = false;
  await update((all) => {
    had = name in all;
    delete all[name];
  });
  const key = await removeStoredToken(KEY_OWNER, name, detectKeyring());
  return had || key;
}

export async function storeProviderKey(name: string, key: string): Promise<'keyring' | 'file'> {
  return storeToken(KEY_OWNER, name, key, detectKeyring());
}

export async function providerKey(name: string): Promise<string | undefined> {
  return (await readStoredToken(KEY_OWNER, name, detectKeyring()))?.value;
}

export async function removeProviderKey(name: string): Promise<void> {
  await removeStoredToken(KEY_OWNER, name, detectKeyring());
}
