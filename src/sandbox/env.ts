/**
 * The sandbox environment is built only from what the user names: agent defaults, config `env`,
 * `--env-file`, and `-e`. The host environment is never forwarded wholesale; `-e KEY` copies one
 * value. Values are secrets until proven otherwise: errors name keys, never values.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { EnvSchema } from '../config/schema.js';
import { CorralError } from '../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VAL` sets a value; bare `KEY` copies it from the host (skipped when `optional` and unset). */
export function parseAssignment(
  item: string,
  host: NodeJS.ProcessEnv,
  where: string,
  optional = false,
): [string, string] | undefined {
  const eq = item.indexOf('=');
  const key = eq === -1 ? item : item.slice(0, eq);
  if (!NAME.test(key)) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid environment variable name "${key}" in ${where}.`,
      'Use NAME or NAME=value.',
    );
  }
  if (eq !== -1) return [key, item.slice(eq + 1)];
  const value = host[key];
  if (value === undefined) {
    if (optional) return undefined;
    throw new CorralError(
      'BAD_INPUT',
      `${where} names ${key}, but ${key} is not set on the host.`,
      `Set ${key} or pass ${key}=value.`,
    );
  }
  return [key, value];
}

export function configEnv(
  env: z.infer<typeof EnvSchema> | undefined,
  host: NodeJS.ProcessEnv,
  where: string,
) {
  const out: Record<string, string> = {};
  if (!env) return out;
  if (Array.isArray(env)) {
    for (const item of env) {
      const kv = parseAssignment(item, host, where, true);
      if (kv) out[kv[0]] = kv[1];
    }
  } else Object.assign(out, env);
  return out;
}

export async function readEnvFile(path: string, host: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CorralError(
      'BAD_INPUT',
      `Cannot read env file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}.`,
    );
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const item = line.replace(/^export\s+/, '');
    const kv = parseAssignment(item, host, `${path}:${i + 1}`, true);
    if (!kv) return;
    const [k, v] = kv;
    out[k] = /^(['"])(.*)\1$/.test(v) ? v.slice(1, -1) : v;
  });
  return out;
}

export interface EnvSources {
  agentDefaults: Record<string, string>;
  global?: z.infer<typeof EnvSchema>;
  perAgent?: z.infer<typeof EnvSchema>;
  envFiles: string[];
  flags: string[];
  host: NodeJS.ProcessEnv;
}

/** Later sources win: agent defaults < config env < agent config env < env files < -e flags. */
export async function buildEnv(s: EnvSources): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...s.agentDefaults };
  Object.assign(out, configEnv(s.global, s.host, 'config env'));
  Object.assign(out, configEnv(s.perAgent, s.host, 'agent config env'));
  for (const f of s.envFiles) Object.assign(out, await readEnvFile(f, s.host));
  for (const item of s.flags) {
    const kv = parseAssignment(item, s.host, `-e ${item.split('=')[0]}`);
    if (kv) out[kv[0]] = kv[1];
  }
  return out;
}
