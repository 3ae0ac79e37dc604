/**
 * A cloned repository is untrusted input. Its `.corral.yaml` may shape the sandbox, but anything
 * that widens what the sandbox can reach (host paths, host environment, custom images, host files)
 * is honoured only after `corral trust`, which records the file's hash; an edited file needs
 * trusting again.
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
 * Split an untrusted project layer into what is safe to honour and a list of what was skipped.
 * Widening: mounts, host-environment copies (bare names in an env list), custom images, the
 * base image and host CA file, services, egress beyond the agent's own API, and turning off the
 * credential scan (a repository must not be able to hide its own planted keys from the check).
 */
export function restrictUntrusted(layer: Record<string, unknown>): {
  safe: Record<string, unknown>;
  skipped: string[];
} {
  const skipped: string[] = [];
  const safe: Record<string, unknown> = {};
  const env = (value: unknown, key: string) => {
    if (!Array.isArray(value)) return value;
    const copies = value.filter((v) => typeof v === 'string' && HOST_COPY.test(v));
    if (copies.length) skipped.push(`${key} (copies host ${copies.join(', ')})`);
    return value.filter((v) => !copies.includes(v));
  };
  for (const [k, v] of Object.entries(layer)) {
    if (['mounts', 'base_image', 'host_ca', 'services', 'host_settings'].includes(k)) skipped.push(k);
    else if (k === 'network' && v === 'open') skipped.push('network (open)');
    else if (k === 'credential_check' && v !== true) skipped.push(`credential_check (${String(v)})`);
    else if (k === 'egress' && typeof v === 'object' && v !== null) {
      // Denials only narrow; everything else in egress opens a way out.
      const { deny, ...widening } = v as Record<string, unknown>;
      for (const [key, value] of Object.entries(widening)) {
        if (key === 'preset' && (value === 'agent' || value === 'none')) continue;
        skipped.push(
          `egress.${key}${Array.isArray(value) ? ` (${value.join(', ')})` : ` (${String(value)})`}`,
        );
      }
      safe.egress = {
        ...(deny !== undefined ? { deny } : {}),
        ...(['agent', 'none'].includes(widening.preset as string) ? { preset: widening.preset } : {}),
      };
    } else if (k === 'env') safe.env = env(v, 'env');
    else if (k === 'agents' && typeof v === 'object' && v !== null) {
      const agents: Record<string, unknown> = {};
      for (const [name, a] of Object.entries(v as Record<string, Record<string, unknown>>)) {
        const { image, env: agentEnv, host_settings, ...rest } = a ?? {};
        if (image !== undefined) skipped.push(`agents.${name}.image`);
        if (host_settings !== undefined) skipped.push(`agents.${name}.host_settings`);
        agents[name] = {
          ...rest,
          ...(agentEnv !== undefined ? { env: env(agentEnv, `agents.${name}.env`) } : {}),
        };
      }
      safe.agents = agents;
    } else safe[k] = v;
  }
  return { safe, skipped };
}
