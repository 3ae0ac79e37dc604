/**
 * The last validated configs, remembered by a hash of their layers: a run whose config file,
 * project file, CORRAL_* variables and flags are what they were on a recent run skips loading zod
 * and checking them again (30-70 ms of every command's start). Only a build that knows its schema caches: the
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

interface Verdict {
  key: string;
  config: Config;
}

/**
 * The file: the last verdict, and a few before it (most recent first). Runs alternate between
 * configs (a shell and a task with other flags, another project's file, another CORRAL_*
 * variable): with one verdict each would validate again, and load zod, every time.
 */
type VerdictFile = Partial<Verdict> & { earlier?: Verdict[] };
const KEEP_EARLIER = 7;

async function readVerdicts(path: string): Promise<VerdictFile> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as VerdictFile;
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

const isVerdict = (v: unknown): v is Verdict =>
  typeof (v as Verdict | undefined)?.key === 'string' &&
  typeof (v as Verdict).config === 'object' &&
  Boolean((v as Verdict).config);

/** The config validated for exactly this key, if it was among the last ones validated. */
export async function recalled(key: string | undefined, path = verdictPath()): Promise<Config | undefined> {
  if (!key) return undefined;
  const v = await readVerdicts(path);
  const all = [v, ...(Array.isArray(v.earlier) ? v.earlier : [])];
  return all.find((x): x is Verdict => isVerdict(x) && x.key === key)?.config;
}

/**
 * Remember a config that passed validation; failing to write only costs the next run the check
 * (so does a write lost to another run's at the same moment).
 */
export async function remember(key: string | undefined, config: Config, path = verdictPath()): Promise<void> {
  if (!key) return;
  const v = await readVerdicts(path);
  const earlier = [v, ...(Array.isArray(v.earlier) ? v.earlier : [])]
    .filter((x): x is Verdict => isVerdict(x) && x.key !== key)
    .map(({ key: k, config: c }) => ({ key: k, config: c }))
    .slice(0, KEEP_EARLIER);
  await mkdir(dirname(path), { recursive: true })
    .then(() => writeFileAtomic(path, JSON.stringify({ key, config, earlier })))
    .catch(() => {});
}
