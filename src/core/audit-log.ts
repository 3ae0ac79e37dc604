/**
 * A workspace gateway's egress audit log, read: `corral egress log` (the last lines, then new ones
 * as they come) and the daemon's live view (new lines since the last look). The log is where the
 * gateway writes it: on this machine, or in the copy of its folder on a remote engine's machine
 * (or in a Kubernetes gateway pod), read there through the engine's hostFolders.
 */
import { createReadStream, existsSync, watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ContainerEngine } from '../engine/index.js';
import type { AuditEntry } from '../gateway/audit.js';
import { gatewayDirs } from '../gateway/folders.js';
import { GATEWAY_CONTAINER_PATHS as P } from '../gateway/settings.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { EgressLogInput } from './types.js';

/** What one look of a live view reads at most: a burst of requests never fills the daemon's memory. */
const MAX_LOOK = 4 << 20;

/**
 * Audit log entries, oldest first: the last `lines` (0: all), then, with `follow`, new ones as they
 * come until `signal` aborts. Returns false when there is no log yet (and not following).
 */
export async function egressLog(
  ctx: CoreContext,
  input: EgressLogInput,
  onEntry: (e: AuditEntry) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const ws = await resolveWorkspace(input.workdir ?? ctx.cwd);
  const engine = await ctx.engine();
  const path = join(gatewayDirs(engine, ws.id).log, P.auditFile);
  const show = (line: string) => {
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      return;
    }
    if (!input.denied || e.decision !== 'allow') onEntry(e);
  };
  // A remote engine's gateway writes its log in the copy of the folder on that machine.
  if (engine.hostFolders) return remoteLog(engine.hostFolders, path, input, show, signal);
  if (!existsSync(path) && !input.follow) return false;
  const lines: string[] = [];
  let offset = 0;
  if (existsSync(path)) {
    for await (const line of createInterface({ input: createReadStream(path) })) lines.push(line);
    offset = (await stat(path)).size;
  }
  const n = input.lines ?? 50;
  for (const line of n > 0 ? lines.slice(-n) : lines) show(line);
  if (!input.follow) return true;
  let partial = '';
  const readMore = async () => {
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size <= offset) return;
    const stream = createReadStream(path, { start: offset, end: size - 1, encoding: 'utf8' });
    offset = size;
    for await (const chunk of stream) partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) show(line);
  };
  let busy = Promise.resolve();
  const watcher = watch(path.slice(0, path.lastIndexOf('/')), () => {
    busy = busy.then(readMore);
  });
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher.close();
  return true;
}

/** The audit log as the remote copy has it; `follow` asks for what was added every second. */
async function remoteLog(
  folders: NonNullable<ContainerEngine['hostFolders']>,
  path: string,
  input: EgressLogInput,
  show: (line: string) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const text = await folders.read(path);
  if (text === undefined && !input.follow) return false;
  const lines = (text ?? '').split('\n').filter(Boolean);
  const n = input.lines ?? 50;
  for (const line of n > 0 ? lines.slice(-n) : lines) show(line);
  if (!input.follow) return true;
  let offset = Buffer.byteLength(text ?? '');
  let partial = '';
  while (!signal?.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
    if (signal?.aborted) break;
    const more = (await folders.read(path, offset).catch(() => undefined)) ?? '';
    offset += Buffer.byteLength(more);
    const parts = (partial + more).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) show(line);
  }
  return true;
}

/** Where the live view is in a log: the byte after the last complete line it has read. */
export interface AuditLogLook {
  entries: AuditEntry[];
  next: number;
}

/**
 * The entries the workspace's audit log gained since byte `from` (complete lines only; the rest is
 * read at the next look), and where the next look starts. `from` undefined: the first look, which
 * only finds where the log ends. A log shorter than `from` was made anew: read from its start.
 */
export async function auditLogSince(
  ctx: CoreContext,
  workspaceId: string,
  from: number | undefined,
): Promise<AuditLogLook> {
  const engine = await ctx.engine();
  const path = join(gatewayDirs(engine, workspaceId).log, P.auditFile);
  const remote = engine.hostFolders;
  const size = remote ? await remote.size(path) : (await stat(path).catch(() => undefined))?.size;
  if (size === undefined) return { entries: [], next: 0 };
  if (from === undefined) return { entries: [], next: size };
  const start = size < from ? 0 : from;
  if (size <= start) return { entries: [], next: start };
  const want = Math.min(size - start, MAX_LOOK);
  const text = remote ? ((await remote.read(path, start, want)) ?? '') : await readLocal(path, start, want);
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return { entries: parseAuditLines(complete), next: start + Buffer.byteLength(complete) };
}

async function readLocal(path: string, from: number, length: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, from);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** One entry per JSON line; a line that is not one (cut short, say) is skipped. */
export function parseAuditLines(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as AuditEntry);
    } catch {}
  }
  return out;
}
