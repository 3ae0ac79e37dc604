/**
 * A custom agent's image from its `containerfile` (config `agents.<name>.containerfile`): the
 * user's steps on top of corral's Node image, so the sandbox user, host CA and workspace are there
 * as for every built-in agent. Corral writes the FROM; the file's own FROM is refused.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { type BuildSettings, buildMissing, chainLabel, planNodeChain } from './build.js';
import { type Progress, silentProgress } from './progress.js';
import { type LayerRecipe, layer, REPO, WORKSPACE_DIR } from './recipes.js';

export function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

export async function customAgentRecipe(nodeTag: string, name: string, path: string): Promise<LayerRecipe> {
  const file = expandHome(path);
  const text = await readFile(file, 'utf8').catch((e: Error) => {
    throw new CorralError(
      'CONFIG_INVALID',
      `Cannot read agents.${name}.containerfile (${file}): ${e.message}`,
      'Point it at a Containerfile of RUN/ENV steps that install the agent.',
    );
  });
  const lines = text.split('\n');
  const from = lines.findIndex((l) => /^\s*FROM\s/i.test(l));
  if (from >= 0) {
    throw new CorralError(
      'CONFIG_INVALID',
      `${file}:${from + 1}: remove this FROM line; corral builds agents.${name}.containerfile onto its Node image.`,
      'To run an image of your own instead, set agents.<name>.image.',
    );
  }
  const containerfile = [
    `FROM ${nodeTag}`,
    'USER root',
    ...lines,
    'USER root',
    `WORKDIR ${WORKSPACE_DIR}`,
    '',
  ].join('\n');
  return layer('agent', `${REPO}/custom-${name}`, containerfile, {}, { 'io.corral.agent': name });
}

export async function ensureCustomAgentImage(
  engine: ContainerEngine,
  name: string,
  path: string,
  opts: { settings: BuildSettings; progress?: Progress; rebuild?: boolean; noCache?: boolean },
): Promise<string> {
  const progress = opts.progress ?? silentProgress();
  const chain = await planNodeChain(opts.settings);
  const recipe = await customAgentRecipe(chain.layers.at(-1)!.tag, name, path);
  if (!opts.rebuild && (await engine.imageExists(recipe.tag))) return recipe.tag;
  await buildMissing(
    engine,
    [chain.rootfs, ...chain.layers, recipe],
    (l) => (l === recipe ? `${name}: ${path}` : (chainLabel(l) ?? l.tag)),
    { ...opts, progress, ...(opts.rebuild ? { force: recipe } : {}) },
  );
  progress.done(`built ${recipe.tag}`);
  return recipe.tag;
}

/** The tag a custom agent's containerfile gives, without building (for --dry-run). */
export async function plannedCustomAgentImage(
  name: string,
  path: string,
  settings: BuildSettings,
): Promise<string> {
  const chain = await planNodeChain(settings);
  return (await customAgentRecipe(chain.layers.at(-1)!.tag, name, path)).tag;
}
