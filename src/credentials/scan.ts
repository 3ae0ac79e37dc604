/**
 * Secret scanning before a workspace is mounted into a sandbox: walk it within a time budget and
 * report credentials by rule, path and line, never by value. `corral run` shows the findings for the
 * user to mask, allow (see triage.ts) or abort; `corral scan` runs it on its own.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CorralError } from '../errors.js';
import { detect } from './rules.js';
import type { FileInput, Finding, ScanOptions, ScanResult } from './types.js';
import { type IgnoreLayer, layersFor, listDir } from './walk.js';

export type { Finding, ScanOptions, ScanResult } from './types.js';

export const DEFAULT_BUDGET_MS = 3000;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Git's own test for binary: a NUL byte near the start. */
const BINARY_SNIFF_BYTES = 8192;
/** Files between yields to the event loop (so a Ctrl-C or progress timer is not starved). */
const BATCH = 64;

interface FileRead {
  fingerprint: string;
  text?: string;
}

/**
 * Read one regular file without following a symlink, even one swapped in after the directory was
 * listed. Undefined when it is gone, unreadable or no longer a regular file. Synchronous on purpose:
 * for small cached files the promise API's thread-pool round trips cost several times the read
 * itself; the scan loop yields to the event loop between batches instead.
 */
function readRegular(abs: string, maxBytes: number): FileRead | undefined {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const hash = createHash('sha256');
    if (st.size > maxBytes) {
      // Too big to scan, but a key file recognised by name still needs a fingerprint to be allowed.
      const chunk = Buffer.allocUnsafe(64 * 1024);
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
      return { fingerprint: hash.digest('hex') };
    }
    const buf = readFileSync(fd);
    const fingerprint = hash.update(buf).digest('hex');
    if (buf.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { fingerprint };
    return { fingerprint, text: buf.toString('utf8') };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function scanFile(root: string, rel: string, maxBytes: number): Finding[] {
  const read = readRegular(join(root, rel), maxBytes);
  if (!read) return [];
  const input: FileInput = {
    path: rel,
    name: basename(rel),
    ...(read.text !== undefined ? { text: read.text } : {}),
  };
  return detect(input).map((h) => ({ path: rel, ...h, fingerprint: read.fingerprint }));
}

export async function scanWorkspace(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const budgetMs = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const started = performance.now();
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `Cannot scan ${root}: it is not a readable folder.`,
      'Pass an existing folder.',
    );
  }

  const findings: Finding[] = [];
  let filesScanned = 0;
  const stopReason = (): ScanResult['stoppedBy'] =>
    opts.signal?.aborted ? 'signal' : performance.now() - started > budgetMs ? 'budget' : undefined;

  // Depth-first with an explicit stack: no recursion limit on deep trees, and a stop check per step.
  const stack: { dir: string; layers: IgnoreLayer[] }[] = [{ dir: '', layers: [] }];
  while (stack.length) {
    const { dir, layers: parentLayers } = stack.pop()!;
    let stopped = stopReason();
    if (stopped) return { findings, complete: false, filesScanned, stoppedBy: stopped };
    const layers = await layersFor(realRoot, dir, parentLayers);
    const { files, dirs } = await listDir(realRoot, dir, layers);
    for (let i = 0; i < files.length; i++) {
      if (i % BATCH === BATCH - 1) await new Promise((r) => setImmediate(r));
      stopped = stopReason();
      if (stopped) return { findings, complete: false, filesScanned, stoppedBy: stopped };
      findings.push(...scanFile(realRoot, files[i]!, maxBytes));
      filesScanned++;
      opts.onProgress?.(filesScanned, files[i]!);
    }
    for (let i = dirs.length - 1; i >= 0; i--) stack.push({ dir: dirs[i]!, layers });
  }
  // Every file was looked at, even if the budget or signal ran out during the last one.
  return { findings, complete: true, filesScanned };
}
