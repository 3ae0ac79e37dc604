/**
 * A project's own config and what it may do: `corral init` (commented starters), `corral trust` /
 * `untrust` (whether `.corral.yaml`, a Containerfile or devcontainer.json may widen the sandbox) and
 * `corral config show` (the merged config and where each value came from).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { resolveAgent } from '../agents/index.js';
import { DEVCONTAINER_FILES } from '../config/devcontainer.js';
import { type LoadedConfig, origins } from '../config/load.js';
import { CONTAINERFILES, hasProjectFiles, readProjectFiles, trustText } from '../config/project.js';
import {
  PROJECT_FILE,
  readTrust,
  type TrustEntry,
  trustWorkspace,
  untrustWorkspace,
} from '../config/trust.js';
import { CorralError } from '../errors.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import { STARTER_CONTAINERFILE, starterConfig } from './project-starters.js';
import type { InitProjectInput, WorkdirInput } from './types.js';

export { CONTAINERFILES, PROJECT_FILE, type TrustEntry };

const workspaceOf = (ctx: CoreContext, input: WorkdirInput) => resolveWorkspace(input.workdir ?? ctx.cwd);

/** Write the starters (kept where they exist, unless `force`); what happened to each, in order. */
export async function initProject(
  ctx: CoreContext,
  input: InitProjectInput,
): Promise<{ workspace: string; files: { name: string; action: 'wrote' | 'kept' }[] }> {
  const ws = await workspaceOf(ctx, input);
  const agent = input.agent ? resolveAgent(input.agent).name : undefined;
  const existing = CONTAINERFILES.find((f) => existsSync(join(ws.path, f)));
  const files: [string, string][] = [
    [PROJECT_FILE, starterConfig(agent)],
    [existing ?? CONTAINERFILES[1]!, STARTER_CONTAINERFILE],
  ];
  const out: { name: string; action: 'wrote' | 'kept' }[] = [];
  for (const [name, text] of files) {
    const path = join(ws.path, name);
    if (existsSync(path) && !input.force) {
      out.push({ name, action: 'kept' });
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    out.push({ name, action: 'wrote' });
  }
  return { workspace: ws.path, files: out };
}

/** Trust the workspace's project files as they are now (validated first); the files trusted. */
export async function trustProject(
  ctx: CoreContext,
  input: WorkdirInput,
): Promise<{ workspace: string; files: string[] }> {
  const ws = await workspaceOf(ctx, input);
  const files = await readProjectFiles(ws.path);
  if (!hasProjectFiles(files)) {
    throw new CorralError(
      'BAD_INPUT',
      `There is nothing in ${ws.path} to trust.`,
      `corral trusts a project's ${[PROJECT_FILE, ...CONTAINERFILES, ...DEVCONTAINER_FILES].join(', ')}.`,
    );
  }
  // Validate before trusting: a broken file should be fixed, not recorded.
  await ctx.config(ws.path);
  await trustWorkspace(ws.path, trustText(ws.path, files));
  const names = [files.config, files.containerfile, files.devcontainer, files.devDockerfile]
    .filter((f) => f !== undefined)
    .map((f) => relative(ws.path, f.path));
  return { workspace: ws.path, files: names };
}

/** The trusted workspaces, by path. */
export function trustedWorkspaces(): Promise<Record<string, TrustEntry>> {
  return readTrust();
}

/** Stop trusting a workspace; `wasTrusted` false when it was not. */
export async function untrustProject(
  ctx: CoreContext,
  input: WorkdirInput,
): Promise<{ workspace: string; wasTrusted: boolean }> {
  const ws = await workspaceOf(ctx, input);
  return { workspace: ws.path, wasTrusted: await untrustWorkspace(ws.path) };
}

export interface ConfigView {
  config: LoadedConfig['config'];
  /** Each set key (dotted path) → the file or layer it came from. */
  origin: Record<string, string>;
  project: LoadedConfig['project'];
}

/** The config corral would use in the workspace (defaults < global < project < env < flags). */
export async function showConfig(ctx: CoreContext, input: WorkdirInput): Promise<ConfigView> {
  const ws = await workspaceOf(ctx, input);
  const loaded = await ctx.loadedConfig(ws.path);
  const origin = origins(loaded.layers, loaded.config as unknown as Record<string, unknown>);
  return { config: loaded.config, origin, project: loaded.project };
}

/** The value at a dotted key path (`egress.allow`) of a config. */
export function valueAt(obj: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}
