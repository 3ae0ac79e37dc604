/**
 * Config layers, lowest first: built-in defaults < global file < CORRAL_* env < flags.
 * (The trusted project file joins between global and env with workspace trust.)
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CorralError } from '../errors.js';
import { DEFAULT_CONFIG } from './defaults.js';
import type { Devcontainer } from './devcontainer.js';
import { configError } from './errors.js';
import { corralPaths } from './paths.js';
import { hasProjectFiles, isEmptyContainerfile, readProjectFiles, trustText } from './project.js';
import type { Config, ConfigInput } from './schema.js';
import { isTrusted, restrictUntrusted } from './trust.js';
import { recalled, remember, verdictKey } from './verdicts.js';

export { corralPaths };

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CORRAL_CONFIG ?? join(corralPaths.config, 'config.yaml');
}

/** Env vars corral reads, each mapped to one config key; anything else named CORRAL_* is not config. */
const ENV_KEYS: Record<string, { key: string[]; type: 'string' | 'boolean' | 'int' }> = {
  CORRAL_ENGINE: { key: ['engine'], type: 'string' },
  CORRAL_ISOLATION: { key: ['isolation'], type: 'string' },
  CORRAL_AUTO_PULL: { key: ['auto_pull'], type: 'boolean' },
  CORRAL_AUTO_REMOVE: { key: ['auto_remove'], type: 'boolean' },
  CORRAL_HOST_CA: { key: ['host_ca'], type: 'string' },
  CORRAL_BASE_IMAGE: { key: ['base_image'], type: 'string' },
  CORRAL_PIDS_LIMIT: { key: ['limits', 'pids'], type: 'int' },
  CORRAL_MEMORY: { key: ['limits', 'memory'], type: 'string' },
  CORRAL_CREDENTIAL_CHECK: { key: ['credential_check'], type: 'boolean' },
  CORRAL_APPROVAL_TIMEOUT: { key: ['approval_timeout'], type: 'int' },
};

function envValue(name: string, raw: string, type: 'string' | 'boolean' | 'int'): unknown {
  if (type === 'string') return raw;
  if (type === 'int') {
    if (!/^\d+$/.test(raw)) throw badEnv(name, raw, 'a whole number');
    return Number(raw);
  }
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw badEnv(name, raw, 'true or false');
}

function badEnv(name: string, raw: string, expected: string): CorralError {
  return new CorralError('CONFIG_INVALID', `Invalid value "${raw}" in env ${name}: expected ${expected}.`);
}

export function envLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    // `CORRAL_ENGINE= corral …` clears a setting; only a boolean reads empty as a value (false).
    if (raw === undefined || (raw === '' && spec.type !== 'boolean')) continue;
    let node = out;
    for (const k of spec.key.slice(0, -1)) {
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    node[spec.key.at(-1)!] = envValue(name, raw, spec.type);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from the higher layer replace the lower. */
export function mergeLayers(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = isObject(v) && isObject(out[k]) ? mergeLayers(out[k], v) : v;
    }
  }
  return out;
}

export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CorralError('CONFIG_UNREADABLE', `Cannot read ${path}: ${(e as Error).message}`);
  }
  // Loaded only when there is a file to parse: every command starts faster without it.
  const { parseDocument } = (await import('yaml')).default;
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new CorralError(
      'CONFIG_INVALID',
      `Invalid YAML in ${path}: ${doc.errors[0]!.message}`,
      'Check indentation and quoting at the line named above.',
    );
  }
  const value = doc.toJS() ?? {};
  if (!isObject(value)) {
    throw new CorralError(
      'CONFIG_INVALID',
      `Invalid config in ${path}: expected a mapping of keys at the top level.`,
    );
  }
  return value;
}

/** Validate one layer on its own so an error names the layer it came from. */
async function checkLayer(source: string, layer: Record<string, unknown>): Promise<void> {
  const { ConfigSchema } = await import('./schema.js');
  const result = ConfigSchema.safeParse(layer);
  if (!result.success) throw configError(source, ConfigSchema, result.error);
}

export interface LoadOptions {
  path?: string;
  /** The workspace (real path) whose `.corral.yaml` joins the layers. */
  workspace?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values; undefined entries are ignored. */
  overrides?: ConfigInput;
}

export interface ProjectInfo {
  /** The project's `.corral.yaml`, or the workspace when it has only an image file. */
  path: string;
  trusted: boolean;
  /** What an untrusted project config asked for and did not get. */
  skipped: string[];
  /** The project Containerfile extending the agent image (trusted projects only). */
  containerfile?: string;
  /** The devcontainer.json to build on (trusted projects only). */
  devcontainer?: Devcontainer;
}

export interface Layer {
  name: string;
  data: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  path: string;
  project?: ProjectInfo;
  /** The layers that were merged, lowest first, for `corral config show --origin`. */
  layers: Layer[];
}

async function projectLayer(
  workspace: string,
): Promise<{ info: ProjectInfo; data: Record<string, unknown>; raw: Record<string, unknown> } | undefined> {
  const files = await readProjectFiles(workspace);
  if (!hasProjectFiles(files)) return undefined;
  const path = files.config?.path ?? workspace;
  // Validated whole (in loadConfig) even where untrusted keys are then dropped.
  const data = files.config ? await readConfigFile(files.config.path) : {};
  if (await isTrusted(workspace, trustText(workspace, files))) {
    const info: ProjectInfo = {
      path,
      trusted: true,
      skipped: [],
      ...(files.containerfile ? { containerfile: files.containerfile.path } : {}),
      ...(files.devcontainer ? { devcontainer: files.devcontainer } : {}),
    };
    return { info, data, raw: data };
  }
  const { safe, skipped } = restrictUntrusted(data);
  if (files.containerfile && !isEmptyContainerfile(files.containerfile.text))
    skipped.push(`${relative(workspace, files.containerfile.path)} (custom image)`);
  if (files.devcontainer)
    skipped.push(`${relative(workspace, files.devcontainer.path)} (image, env, ports, postCreateCommand)`);
  return { info: { path, trusted: false, skipped }, data: safe, raw: data };
}

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const path = opts.path ?? defaultConfigPath(env);
  const file = await readConfigFile(path);
  const project = opts.workspace ? await projectLayer(opts.workspace) : undefined;
  const fromEnv = envLayer(env);
  const overrides = (opts.overrides ?? {}) as Record<string, unknown>;
  const layers: Layer[] = [
    { name: path, data: file },
    ...(project ? [{ name: project.info.path, data: project.data }] : []),
    { name: 'environment (CORRAL_*)', data: fromEnv },
    { name: 'command-line flags', data: overrides },
  ].filter((l) => Object.keys(l.data).length);
  const base = { path, layers, ...(project ? { project: project.info } : {}) };
  if (!layers.length && !Object.keys(project?.raw ?? {}).length)
    return { config: structuredClone(DEFAULT_CONFIG) as Config, ...base };
  const key = verdictKey([...layers.map((l) => l.data), project?.raw ?? {}]);
  const known = await recalled(key);
  if (known) return { config: known, ...base };
  await checkLayer(path, file);
  if (project?.raw && Object.keys(project.raw).length) await checkLayer(project.info.path, project.raw);
  await checkLayer('environment (CORRAL_*)', fromEnv);
  const merged = mergeLayers(...layers.map((l) => l.data));
  const { ConfigSchema } = await import('./schema.js');
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) throw configError('command-line flags', ConfigSchema, result.error);
  await remember(key, result.data);
  return { config: result.data, ...base };
}

/** For each leaf key of the merged config, the layer that set it last (or "default"). */
export function origins(layers: Layer[], config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: unknown, prefix: string, from: string, into: Record<string, string>) => {
    if (isObject(node) && Object.keys(node).length) {
      for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k, from, into);
    } else if (prefix) into[prefix] = from;
  };
  walk(config, '', 'default', out);
  for (const l of layers) walk(l.data, '', l.name, out);
  return out;
}

/** Bytes from a size like `8g`. */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(size.trim());
  if (!m) throw new CorralError('CONFIG_INVALID', `Invalid size "${size}": expected a size like 512m or 8g.`);
  const exp = ['', 'k', 'm', 'g', 't'].indexOf(m[2]!.toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** exp);
}
