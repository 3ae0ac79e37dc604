/**
 * Secret scanning before a workspace is mounted into a sandbox: walk it within a time budget and
 * report credentials by rule, path and line, never by value. `corral run` shows the findings for the
 * user to mask, allow (see triage.ts) or abort; `corral scan` runs it on its own.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { CorralError } from '../errors.js';
import { detect } from './rules.js';
import type { FileInput, FileStat, Finding, ScanOptions, ScanResult } from './types.js';
import { type IgnoreLayer, readFolder } from './walk.js';

export type { FileStat, Finding, ScanOptions, ScanResult } from './types.js';

export const DEFAULT_BUDGET_MS = 3000;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Git's own test for binary: a NUL byte near the start. */
const BINARY_SNIFF_BYTES = 8192;
/** Files and folders between yields to the event loop (so a Ctrl-C or progress timer is not starved). */
const BATCH = 64;

export interface FileRead {
  fingerprint: string;
  text?: string;
  /** What the open file was when read: an incremental scan compares it on the next run. */
  stat: FileStat;
}

/** How a file is read; tests pass their own to count reads. */
export type Reader = (abs: string, maxBytes: number) => FileRead | undefined;

export const statOf = (st: Stats): FileStat => ({
  size: st.size,
  mtimeMs: st.mtimeMs,
  ino: st.ino,
});

/**
 * Read one regular file without following a symlink, even one swapped in after the directory was
 * listed. Undefined when it is gone, unreadable or no longer a regular file. Synchronous on purpose:
 * for small cached files the promise API's thread-pool round trips cost several times the read
 * itself; the scan loop yields to the event loop between batches instead.
 */
export function readRegular(abs: string, maxBytes: number): FileRead | undefined {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const stat = statOf(st);
    const hash = createHash('sha256');
    if (st.size > maxBytes) {
      // Too big to scan, but a key file recognised by name still needs a fingerprint to be allowed.
      const chunk = Buffer.allocUnsafe(64 * 1024);
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
      return { fingerprint: hash.digest('hex'), stat };
    }
    const buf = readFileSync(fd);
    const fingerprint = hash.update(buf).digest('hex');
    if (buf.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { fingerprint, stat };
    return { fingerprint, text: buf.toString('utf8'), stat };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The findings in one file as read. */
export function findingsOf(rel: string, read: FileRead): Finding[] {
  const input: FileInput = {
    path: rel,
    name: basename(rel),
    ...(read.text !== undefined ? { text: read.text } : {}),
  };
  return detect(input).map((h) => ({ path: rel, ...h, fingerprint: read.fingerprint }));
}

/** The workspace's real path; a CorralError when it is not a readable folder. */
export async function scanRoot(root: string): Promise<string> {
  try {
    const realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new Error('not a directory');
    return realRoot;
  } catch {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `Cannot scan ${root}: it is not a readable folder.`,
      'Pass an existing folder.',
    );
  }
}

/** Called per file the walk looks at, with the real root and the file's relative path. */
export type Visit = (realRoot: string, rel: string) => Finding[];

/** `skip` entries cover themselves and everything below them. */
function skipper(skip: string[] | undefined): (rel: string) => boolean {
  const set = new Set((skip ?? []).map((s) => s.split(sep).join('/').replace(/\/+$/, '')));
  if (!set.size) return () => false;
  return (rel) => {
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1))
      if (set.has(rel.slice(0, i))) return true;
    return set.has(rel);
  };
}

/**
 * Walk the files a scan looks at (see walk.ts) within the budget, calling `visit` for each. The
 * full scan reads every file; the incremental one (scan-cache.ts) reads only what changed.
 */
export async function walkWorkspace(root: string, opts: ScanOptions, visit: Visit): Promise<ScanResult> {
  const budgetMs = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const started = performance.now();
  const realRoot = await scanRoot(root);
  const skipped = skipper(opts.skip);

  const findings: Finding[] = [];
  let filesScanned = 0;
  const stopReason = (): ScanResult['stoppedBy'] =>
    opts.signal?.aborted ? 'signal' : performance.now() - started > budgetMs ? 'budget' : undefined;

  // Depth-first with an explicit stack: no recursion limit on deep trees, and a stop check per step.
  const stack: { dir: string; layers: IgnoreLayer[] }[] = [{ dir: '', layers: [] }];
  let steps = 0;
  while (stack.length) {
    const { dir, layers: parentLayers } = stack.pop()!;
    if (++steps % BATCH === 0) await new Promise((r) => setImmediate(r));
    let stopped = stopReason();
    if (stopped) return { findings, complete: false, filesScanned, stoppedBy: stopped };
    const { files, dirs, layers } = readFolder(realRoot, dir, parentLayers);
    for (const file of files) {
      if (++steps % BATCH === 0) await new Promise((r) => setImmediate(r));
      stopped = stopReason();
      if (stopped) return { findings, complete: false, filesScanned, stoppedBy: stopped };
      if (skipped(file)) continue;
      findings.push(...visit(realRoot, file));
      filesScanned++;
      opts.onProgress?.(filesScanned, file);
    }
    for (let i = dirs.length - 1; i >= 0; i--) if (!skipped(dirs[i]!)) stack.push({ dir: dirs[i]!, layers });
  }
  // Every file was looked at, even if the budget or signal ran out during the last one.
  return { findings, complete: true, filesScanned };
}

export async function scanWorkspace(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return walkWorkspace(root, opts, (realRoot, rel) => {
    const read = readRegular(join(realRoot, rel), maxBytes);
    return read ? findingsOf(rel, read) : [];
  });
}
