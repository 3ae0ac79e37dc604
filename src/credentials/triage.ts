/**
 * Findings the user has looked at and allowed, per workspace. A decision is keyed by the file's path
 * and the sha256 of its content: allowing a test fixture once is enough until the file changes, and
 * a real key pasted into that file later is a new finding, not a silently allowed one.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { Finding } from './types.js';

export const triagePath = (): string => dataFile('credential-triage.json');

export interface AllowedEntry {
  path: string;
  fingerprint: string;
  allowedAt: string;
}

/** Workspace (its real path, as `resolveWorkspace` gives it) → allowed files. */
type TriageStore = Record<string, AllowedEntry[]>;

async function readStore(file: string): Promise<TriageStore> {
  const raw = await readJson<TriageStore>(file);
  const store: TriageStore = {};
  // The file is hand-editable state: keep only well-formed entries rather than fail a run on it.
  for (const [ws, entries] of Object.entries(raw)) {
    if (!Array.isArray(entries)) continue;
    store[ws] = entries.filter(
      (e): e is AllowedEntry =>
        typeof e === 'object' &&
        e !== null &&
        typeof e.path === 'string' &&
        typeof e.fingerprint === 'string',
    );
  }
  return store;
}

const sameFile = (e: Pick<Finding, 'path' | 'fingerprint'>, f: Pick<Finding, 'path' | 'fingerprint'>) =>
  e.path === f.path && e.fingerprint === f.fingerprint;

export async function allowedFor(workspace: string, file = triagePath()): Promise<AllowedEntry[]> {
  return (await readStore(file))[workspace] ?? [];
}

/** Allow every finding in this file as it is now. Older decisions for the same path are dropped. */
export async function allowFinding(
  workspace: string,
  finding: Pick<Finding, 'path' | 'fingerprint'>,
  file = triagePath(),
): Promise<void> {
  const store = await readStore(file);
  const kept = (store[workspace] ?? []).filter((e) => e.path !== finding.path);
  store[workspace] = [
    ...kept,
    { path: finding.path, fingerprint: finding.fingerprint, allowedAt: new Date().toISOString() },
  ];
  await writeJson(file, store);
}

export async function isAllowed(
  workspace: string,
  finding: Pick<Finding, 'path' | 'fingerprint'>,
  file = triagePath(),
): Promise<boolean> {
  return (await allowedFor(workspace, file)).some((e) => sameFile(e, finding));
}

/** The findings still waiting for a decision. */
export async function untriaged(
  workspace: string,
  findings: Finding[],
  file = triagePath(),
): Promise<Finding[]> {
  const allowed = await allowedFor(workspace, file);
  return findings.filter((f) => !allowed.some((e) => sameFile(e, f)));
}

/** Forget a workspace's decisions (e.g. `corral clean --all`). */
export async function forgetWorkspace(workspace: string, file = triagePath()): Promise<boolean> {
  const store = await readStore(file);
  if (!store[workspace]) return false;
  delete store[workspace];
  await writeJson(file, store);
  return true;
}
