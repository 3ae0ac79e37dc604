/**
 * The scan on the start path. A full scan reads every file; here each file's size, mtime and inode
 * are kept with the findings of its last read, per workspace, in corral's data folder, so a repeat
 * start of an unchanged workspace lists folders and stats files but reads none of them. A file whose
 * stat changed, or that is new, is read again; one that is gone drops out.
 *
 * A file written within RACY_MS of being read may change again within the same timestamp tick
 * (git's "racily clean" problem): its entry is marked and it is read again next time.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import { RULE_IDS } from './rules.js';
import {
  DEFAULT_MAX_FILE_BYTES,
  type FileStat,
  type Finding,
  findingsOf,
  type Reader,
  readRegular,
  type ScanOptions,
  type ScanResult,
  scanRoot,
  statOf,
  walkWorkspace,
} from './scan.js';

const RACY_MS = 2000;
const CACHE_FORMAT = 1;

export interface CachedFile extends FileStat {
  findings: Omit<Finding, 'path'>[];
  racy?: true;
}

export interface ScanCache {
  /** Changes with corral's version and the scan's settings: cached findings are only as good as the rules that made them. */
  stamp: string;
  /** The workspace's real path (the file name is only its id). */
  workspace: string;
  files: Record<string, CachedFile>;
}

export interface IncrementalOptions extends ScanOptions {
  read?: Reader;
}

export interface IncrementalResult extends ScanResult {
  cache: ScanCache;
  /** Files read this time (the rest came from the cache). */
  filesRead: number;
  /** The cache differs from the one given (worth writing back). */
  changed: boolean;
}

let version: string | undefined;
function corralVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      version = String((pkg as { version?: unknown }).version ?? '');
    } catch {
      version = '';
    }
  }
  return version;
}

export function cacheStamp(maxBytes = DEFAULT_MAX_FILE_BYTES): string {
  const h = createHash('sha256').update(`${CACHE_FORMAT}\n${corralVersion()}\n${maxBytes}\n`);
  return h.update(RULE_IDS.join(',')).digest('hex').slice(0, 16);
}

export const emptyCache = (workspace: string, maxBytes?: number): ScanCache => ({
  stamp: cacheStamp(maxBytes),
  workspace,
  files: {},
});

/**
 * Not ctime: Docker-as-root sessions set and remove ACLs on every file (sandbox/ownership.ts), which
 * would make every start after one read the whole workspace again. A replaced file (an editor's
 * save-by-rename) has a new inode even when its size and mtime are the same.
 */
const same = (a: FileStat, b: FileStat) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

function lstatFile(abs: string): FileStat | undefined {
  try {
    const st = lstatSync(abs);
    return st.isFile() ? statOf(st) : undefined;
  } catch {
    return undefined;
  }
}

/** The cache is hand-editable state: an entry that is not what this code wrote is read again. */
const valid = (e: CachedFile): boolean =>
  typeof e === 'object' &&
  e !== null &&
  Array.isArray(e.findings) &&
  ['size', 'mtimeMs', 'ino'].every((k) => typeof e[k as keyof FileStat] === 'number');

const withPath = (rel: string, entry: CachedFile): Finding[] =>
  entry.findings.map((f) => ({ path: rel, ...f }));

/**
 * Scan `root`, reading only files that are new or changed since `cache` (its workspace and stamp
 * must match, or it counts as empty). When the budget runs out, files not reached keep their old
 * entries, and their known findings are still reported while the file is unchanged.
 */
export async function scanIncremental(
  root: string,
  cache: ScanCache | undefined,
  opts: IncrementalOptions = {},
): Promise<IncrementalResult> {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const read = opts.read ?? readRegular;
  const stamp = cacheStamp(maxBytes);
  const realRoot = await scanRoot(root);
  const usable = cache?.stamp === stamp && cache.workspace === realRoot;
  const prev = usable ? cache.files : {};
  const next: Record<string, CachedFile> = {};
  let filesRead = 0;
  let changed = !usable;

  const result = await walkWorkspace(realRoot, opts, (real, rel) => {
    const abs = join(real, rel);
    const old = prev[rel];
    if (old && !old.racy && valid(old)) {
      const now = lstatFile(abs);
      if (now && same(old, now)) {
        next[rel] = old;
        return withPath(rel, old);
      }
    }
    changed = true;
    filesRead++;
    const got = read(abs, maxBytes);
    if (!got) return [];
    const found = findingsOf(rel, got);
    next[rel] = {
      ...got.stat,
      findings: found.map(({ path: _, ...f }) => f),
      ...(Date.now() - got.stat.mtimeMs < RACY_MS ? { racy: true as const } : {}),
    };
    return found;
  });

  const findings = [...result.findings];
  for (const [rel, entry] of Object.entries(prev)) {
    if (rel in next) continue;
    if (result.complete) {
      changed = true; // gone, ignored now, or unreadable
      continue;
    }
    // Not reached this time: keep what is known, and report it while the file is unchanged.
    if (!valid(entry)) changed = true;
    else if (!entry.findings.length) next[rel] = entry;
    else if (!entry.racy && same(entry, lstatFile(join(realRoot, rel)) ?? ({} as FileStat))) {
      next[rel] = entry;
      findings.push(...withPath(rel, entry));
    } else changed = true;
  }
  return {
    ...result,
    findings,
    cache: { stamp, workspace: realRoot, files: next },
    filesRead,
    changed,
  };
}

/** One file per workspace id, so reading one workspace's cache never parses another's. */
export const scanCachePath = (workspaceId: string): string => dataFile(`scan-cache/${workspaceId}.json`);

export async function loadScanCache(workspace: string, workspaceId: string): Promise<ScanCache | undefined> {
  const raw = await readJson<ScanCache>(scanCachePath(workspaceId));
  if (raw.workspace !== workspace || typeof raw.stamp !== 'string') return undefined;
  if (typeof raw.files !== 'object' || raw.files === null) return undefined;
  return raw as ScanCache;
}

/** Scan a workspace with its cache, and write the cache back (0600) when it changed. */
export async function scanWithCache(
  ws: { path: string; id: string },
  opts: IncrementalOptions = {},
): Promise<IncrementalResult> {
  const result = await scanIncremental(ws.path, await loadScanCache(ws.path, ws.id), opts);
  if (result.changed) await writeJson(scanCachePath(ws.id), result.cache).catch(() => {});
  return result;
}
