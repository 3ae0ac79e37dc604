/**
 * Findings the user has looked at and allowed, per workspace. A decision is keyed by the file's path
 * and the sha256 of its content: allowing a test fixture once is enough until the file changes, and
 * a real key pasted into that file later is a new finding, not a silently allowed one.
 *
 * A masked file is shadowed by an empty read-only file in the sandbox. That decision holds for the
 * path, whatever the file holds later (the sandbox never sees its content, so an edit changes
 * nothing); the fingerprint it was made on is kept for the record. Allowing a file drops its mask and
 * masking one drops its allowance: the newer decision wins.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { Finding } from './types.js';

export const triagePath = (): string => dataFile('credential-triage.json');
export const maskStorePath = (): string => dataFile('credential-masks.json');

export interface AllowedEntry {
  path: string;
  fingerprint: string;
  allowedAt: string;
}

export interface MaskedEntry {
  path: string;
  fingerprint: string;
  maskedAt: string;
}

/** Workspace (its real path, as `resolveWorkspace` gives it) → decided files. */
type Store<E> = Record<string, E[]>;

async function readStore<E extends { path: string; fingerprint: string } = AllowedEntry>(
  file: string,
): Promise<Store<E>> {
  const raw = await readJson<Store<E>>(file);
  const store: Store<E> = {};
  // The file is hand-editable state: keep only well-formed entries rather than fail a run on it.
  for (const [ws, entries] of Object.entries(raw)) {
    if (!Array.isArray(entries)) continue;
    store[ws] = entries.filter(
      (e): e is E =>
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

/** Drop a workspace's decision for one path from a store; false when it had none. */
async function dropPath(workspace: string, path: string, file: string): Promise<boolean> {
  const store = await readStore(file);
  const entries = store[workspace] ?? [];
  if (!entries.some((e) => e.path === path)) return false;
  const kept = entries.filter((e) => e.path !== path);
  if (kept.length) store[workspace] = kept;
  else delete store[workspace];
  await writeJson(file, store);
  return true;
}

/** Allow every finding in this file as it is now. Older decisions for the same path are dropped. */
export async function allowFinding(
  workspace: string,
  finding: Pick<Finding, 'path' | 'fingerprint'>,
  file = triagePath(),
  masks = maskStorePath(),
): Promise<void> {
  const store = await readStore(file);
  const kept = (store[workspace] ?? []).filter((e) => e.path !== finding.path);
  store[workspace] = [
    ...kept,
    { path: finding.path, fingerprint: finding.fingerprint, allowedAt: new Date().toISOString() },
  ];
  await writeJson(file, store);
  await dropPath(workspace, finding.path, masks);
}

/** Shadow this file in the sandbox from now on (see the module comment). */
export async function maskFinding(
  workspace: string,
  finding: Pick<Finding, 'path' | 'fingerprint'>,
  file = maskStorePath(),
  allowed = triagePath(),
): Promise<void> {
  const store = await readStore<MaskedEntry>(file);
  const kept = (store[workspace] ?? []).filter((e) => e.path !== finding.path);
  store[workspace] = [
    ...kept,
    { path: finding.path, fingerprint: finding.fingerprint, maskedAt: new Date().toISOString() },
  ];
  await writeJson(file, store);
  await dropPath(workspace, finding.path, allowed);
}

/** The workspace's masked files, by path. */
export async function maskedFor(workspace: string, file = maskStorePath()): Promise<MaskedEntry[]> {
  return (await readStore<MaskedEntry>(file))[workspace] ?? [];
}

export async function isAllowed(
  workspace: string,
  finding: Pick<Finding, 'path' | 'fingerprint'>,
  file = triagePath(),
): Promise<boolean> {
  return (await allowedFor(workspace, file)).some((e) => sameFile(e, finding));
}

/** The findings still waiting for a decision: neither allowed as they are nor masked. */
export async function untriaged(
  workspace: string,
  findings: Finding[],
  file = triagePath(),
  masks = maskStorePath(),
): Promise<Finding[]> {
  if (!findings.length) return [];
  const allowed = await allowedFor(workspace, file);
  const masked = new Set((await maskedFor(workspace, masks)).map((e) => e.path));
  return findings.filter((f) => !masked.has(f.path) && !allowed.some((e) => sameFile(e, f)));
}

/** Forget a workspace's decisions (e.g. `corral clean --all`). */
export async function forgetWorkspace(
  workspace: string,
  file = triagePath(),
  masks = maskStorePath(),
): Promise<boolean> {
  let forgot = false;
  for (const f of [file, masks]) {
    const store = await readStore(f);
    if (!store[workspace]) continue;
    delete store[workspace];
    await writeJson(f, store);
    forgot = true;
  }
  return forgot;
}
