/**
 * An ACP adapter (an npm package that speaks ACP and drives the agent's CLI, e.g. Zed's
 * claude-code-acp) as one more layer on the agent's image, built on the first `corral acp`.
 */
import type { AgentSpec } from '../agents/types.js';
import type { ContainerEngine } from '../engine/index.js';
import { type BuildSettings, buildStep } from './build.js';
import { type Progress, silentProgress } from './progress.js';
import { installCommand, type LayerRecipe, layer, REPO } from './recipes.js';

export function acpAdapterRecipe(parentTag: string, agent: AgentSpec): LayerRecipe | undefined {
  const adapter = agent.acp?.adapter;
  if (!adapter) return undefined;
  const install = { kind: 'npm' as const, package: adapter.package, version: adapter.version };
  const containerfile = [`FROM ${parentTag}`, `RUN export HOME=/root && ${installCommand(install)}`, ''].join(
    '\n',
  );
  return layer(
    'agent',
    `${REPO}/${agent.name}-acp`,
    containerfile,
    {},
    {
      'io.corral.agent': agent.name,
      'io.corral.acp-adapter': `${adapter.package}@${adapter.version}`,
    },
  );
}

/** The image with the agent's ACP adapter on top (the agent's own image when it needs none). */
export async function ensureAcpImage(
  engine: ContainerEngine,
  parentTag: string,
  agent: AgentSpec,
  opts: { settings: BuildSettings; progress?: Progress; noCache?: boolean },
): Promise<string> {
  const recipe = acpAdapterRecipe(parentTag, agent);
  if (!recipe) return parentTag;
  if (await engine.imageExists(recipe.tag)) return recipe.tag;
  const progress = opts.progress ?? silentProgress();
  await buildStep(engine, recipe, `${agent.name}: ACP adapter ${agent.acp!.adapter!.package}`, [1, 1], {
    ...opts,
    progress,
  });
  progress.done(`built ${recipe.tag}`);
  return recipe.tag;
}
