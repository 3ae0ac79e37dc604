/**
 * A cloned repository is untrusted input. Until `corral trust` (which records the files' hash; an
 * edited file needs trusting again) its `.corral.yaml` may set only the few keys on a safe list;
 * everything else is reported and ignored.
 */
import { createHash } from 'node:crypto';
import { dataFile, readJson, writeJson } from './json-store.js';

export const PROJECT_FILE = '.corral.yaml';

export const trustPath = (): string => dataFile('trust.json');

export interface TrustEntry {
  hash: string;
  trustedAt: string;
}

export function hashProjectConfig(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function readTrust(path = trustPath()): Promise<Record<string, TrustEntry>> {
  return (await readJson<Record<string, TrustEntry>>(path)) as Record<string, TrustEntry>;
}

const writeTrust = (entries: Record<string, TrustEntry>, path: string) => writeJson(path, entries);

export async function trustWorkspace(workspace: string, text: string, path = trustPath()): Promise<void> {
  const entries = await readTrust(path);
  entries[workspace] = { hash: hashProjectConfig(text), trustedAt: new Date().toISOString() };
  await writeTrust(entries, path);
}

export async function untrustWorkspace(workspace: string, path = trustPath()): Promise<boolean> {
  const entries = await readTrust(path);
  if (!entries[workspace]) return false;
  delete entries[workspace];
  await writeTrust(entries, path);
  return true;
}

export async function isTrusted(workspace: string, text: string, path = trustPath()): Promise<boolean> {
  return (await readTrust(path))[workspace]?.hash === hashProjectConfig(text);
}

const HOST_COPY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What an untrusted `.corral.yaml` may set: keys that only pick among the user's own choices or
 * narrow what the sandbox reaches. Everything else is ignored (and reported) until `corral trust`.
 * Listed in the README's "Project config and trust".
 */
export const UNTRUSTED_SAFE = {
  default_agent: 'any agent name',
  masks: 'folders hidden behind per-workspace volumes',
  credential_check: 'true only',
  network: 'gateway or none',
  'egress.deny': 'any',
  'egress.preset': 'agent or none',
  isolation: 'gvisor only (raising it; never lowering)',
  'agents.<name>.isolation': 'gvisor only (raising it; never lowering)',
} as const;

/**
 * An untrusted project may ask for stronger isolation, never weaker: `gvisor` (the strongest level
 * there is) is the only value it can set, so whatever the user chose, it can only go up.
 */
const raisesIsolation = (v: unknown) => v === 'gvisor';

/** Objects whose keys are reported one by one (`limits.pids (999999)`), rather than as a whole. */
const NESTED = /^(agents(\.[^.]+)?|limits|transcripts|egress|auth|services|mcp_servers)$/;
const MAX_SHOWN = 80;

/** A value as a person reads it: lists comma-separated, maps as key=value, long ones cut. */
export function showValue(v: unknown): string {
  const text = Array.isArray(v)
    ? v.map(showValue).join(', ')
    : v !== null && typeof v === 'object'
      ? Object.entries(v)
          .map(([k, x]) => `${k}=${x !== null && typeof x === 'object' ? `{${showValue(x)}}` : showValue(x)}`)
          .join(', ')
      : String(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** env entries by name only: values may be secrets, and host copies are what matters. */
function showEnv(v: unknown): string {
  const names = Array.isArray(v)
    ? v.map(String)
    : v !== null && typeof v === 'object'
      ? Object.keys(v).map((k) => `${k}=`)
      : [String(v)];
  const copies = names.filter((n) => HOST_COPY.test(n));
  const sets = names.filter((n) => !HOST_COPY.test(n)).map((n) => n.split('=')[0]);
  return [
    ...(copies.length ? [`copies host ${copies.join(', ')}`] : []),
    ...(sets.length ? [`sets ${sets.join(', ')}`] : []),
  ].join('; ');
}

function report(path: string, v: unknown, out: string[]): void {
  if (NESTED.test(path) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) report(`${path}.${k}`, x, out);
    return;
  }
  const last = path.split('.').at(-1);
  out.push(`${path} (${last === 'env' ? showEnv(v) : showValue(v)})`);
}

/**
 * Split an untrusted project layer into the keys on the safe list (UNTRUSTED_SAFE) and a report of
 * everything else, each with its value. Default-deny: a key corral adds later is ignored until
 * trusted unless it is put on the list.
 */
export function restrictUntrusted(layer: Record<string, unknown>): {
  safe: Record<string, unknown>;
  skipped: string[];
} {
  const skipped: string[] = [];
  const safe: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layer)) {
    if (k === 'default_agent' || k === 'masks') safe[k] = v;
    else if (k === 'credential_check' && v === true) safe[k] = v;
    else if (k === 'network' && (v === 'gateway' || v === 'none')) safe[k] = v;
    else if (k === 'isolation' && raisesIsolation(v)) safe[k] = v;
    else if (k === 'agents' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const agents = restrictAgents(v as Record<string, unknown>, skipped);
      if (Object.keys(agents).length) safe.agents = agents;
    } else if (k === 'egress' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const egress: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(v)) {
        if (key === 'deny') egress.deny = value;
        else if (key === 'preset' && (value === 'agent' || value === 'none')) egress.preset = value;
        else report(`egress.${key}`, value, skipped);
      }
      if (Object.keys(egress).length) safe.egress = egress;
    } else report(k, v, skipped);
  }
  return { safe, skipped };
}

/** `agents.<name>`: only a raising `isolation` passes; every other key is reported one by one. */
function restrictAgents(agents: Record<string, unknown>, skipped: string[]): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [name, cfg] of Object.entries(agents)) {
    if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
      report(`agents.${name}`, cfg, skipped);
      continue;
    }
    for (const [key, value] of Object.entries(cfg)) {
      if (key === 'isolation' && raisesIsolation(value)) safe[name] = { isolation: value };
      else report(`agents.${name}.${key}`, value, skipped);
    }
  }
  return safe;
}
