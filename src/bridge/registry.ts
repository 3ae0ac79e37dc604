/**
 * Host commands still running, recorded in corral's own data folder (never the workspace, which the
 * agent can write), so `corral commands kill` in another terminal can stop one. Each record holds
 * the process's start time as the kernel reports it: a pid reused by an unrelated process is never
 * signalled.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataFile } from '../config/json-store.js';

export interface RunningRecord {
  session: string;
  id: string;
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot); undefined where /proc is missing. */
  start?: string;
  workspace: string;
  command: string;
  startedAt: string;
}

const root = () => dataFile(join('bridge', 'running'));
const file = (session: string, id: string) => join(root(), `${session}.${id}.json`);
const killMark = (session: string, id: string) => join(root(), `${session}.${id}.killed`);
const SAFE = /^[A-Za-z0-9_-]+$/;

export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export async function recordRunning(r: Omit<RunningRecord, 'start'>): Promise<void> {
  if (!SAFE.test(r.session) || !SAFE.test(r.id)) return;
  await mkdir(root(), { recursive: true, mode: 0o700 });
  const start = processStart(r.pid);
  await writeFile(file(r.session, r.id), JSON.stringify({ ...r, ...(start ? { start } : {}) }), {
    mode: 0o600,
  });
}

/** The command has ended; returns whether `corral commands kill` ended it. */
export async function forgetRunning(session: string, id: string): Promise<boolean> {
  if (!SAFE.test(session) || !SAFE.test(id)) return false;
  const killed = await rm(killMark(session, id)).then(
    () => true,
    () => false,
  );
  await rm(file(session, id), { force: true });
  return killed;
}

/** Is this record's process still the one that was started? */
export function stillRunning(r: RunningRecord): boolean {
  try {
    process.kill(r.pid, 0);
  } catch {
    return false;
  }
  return r.start === undefined || processStart(r.pid) === r.start;
}

export async function listRunning(workspace?: string): Promise<RunningRecord[]> {
  const names = await readdir(root()).catch(() => [] as string[]);
  const out: RunningRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const r = await readFile(join(root(), name), 'utf8')
      .then((t) => JSON.parse(t) as RunningRecord)
      .catch(() => undefined);
    if (!r || typeof r.pid !== 'number' || (workspace && r.workspace !== workspace)) continue;
    // A bridge that died without cleaning up leaves records of processes long gone.
    if (stillRunning(r)) out.push(r);
    else await rm(join(root(), name), { force: true });
  }
  return out;
}

/**
 * SIGTERM to the command's process group, SIGKILL after `graceMs`; the owning bridge sees the exit
 * and, finding the mark, records it as killed. Resolves false when the command was not running.
 */
export async function killRunning(r: RunningRecord, graceMs = 5000): Promise<boolean> {
  if (!stillRunning(r)) return false;
  await writeFile(killMark(r.session, r.id), '', { mode: 0o600 });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-r.pid, s);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until && stillRunning(r)) await new Promise((res) => setTimeout(res, 100));
  if (stillRunning(r)) signal('SIGKILL');
  return true;
}
