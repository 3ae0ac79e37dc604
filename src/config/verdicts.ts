/**
 * The last validated config, remembered by a hash of its layers: a run whose config file, project
 * file, CORRAL_* variables and flags are what they were last time skips loading zod and checking
 * them again (~30 ms of every command's start). Only a build that knows its schema caches: the
 * bundle stamps in a hash of the schema's source (scripts/bundle.mjs), so a changed schema never
 * trusts an old verdict, and unstamped code (tsc output, tests) always validates.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './json-store.js';
import { corralPaths } from './paths.js';
import type { Config } from './schema.js';

declare const __CORRAL_SCHEMA_HASH__: string | undefined;
export const SCHEMA_STAMP: string | undefined =
  typeof __CORRAL_SCHEMA_HASH__ === 'string' ? __CORRAL_SCHEMA_HASH__ : undefined;

const verdictPath = (): string =>
  join(process.env.CORRAL_CACHE_DIR ?? corralPaths.cache, 'config-verdict.json');

/** The key of these layers' data under this schema, or undefined when there is no schema stamp. */
export function verdictKey(layers: Record<string, unknown>[], stamp = SCHEMA_STAMP): string | undefined {
  if (!stamp) return undefined;
  return createHash('sha256').update(stamp).update('\0').update(JSON.stringify(layers)).digest('hex');
}

/** The config validated last time for exactly this key, if that was the last one validated. */
export async function recalled(key: string | undefined, path = verdictPath()): Promise<Config | undefined> {
  if (!key) return undefined;
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as { key?: unknown; config?: unknown };
    return v.key === key && typeof v.config === 'object' && v.config ? (v.config as Config) : undefined;
  } catch {
    return undefined;
  }
}

/** Remember a config that passed validation; failing to write only costs the next run the check. */
export async function remember(key: string | undefined, config: Config, path = verdictPath()): Promise<void> {
  if (!key) return;
  await mkdir(dirname(path), { recursive: true })
    .then(() => writeFileAtomic(path, JSON.stringify({ key, config })))
    .catch(() => {});
}
