/**
 * Ensuring a project's images: the agent onto a devcontainer's image, and a project Containerfile
 * on top of whichever agent image the run uses. Like the agent chain, each is built only when its
 * content tag is missing.
 */
import { relative } from 'node:path';
import type { AgentSpec, Install } from '../agents/types.js';
import type { Devcontainer } from '../config/devcontainer.js';
import type { ContainerEngine } from '../engine/index.js';
import { type BuildSettings, buildStep, resolveAgentVersion } from './build.js';
import { devBuildTag, ensureDevBase } from './devcontainer.js';
import { detectHostCa } from './host-ca.js';
import { nodeTarballs } from './node-dist.js';
import { type Progress, silentProgress } from './progress.js';
import { devAgentRecipe, projectRecipe } from './project.js';
import type { LayerRecipe } from './recipes.js';

/** What a trusted project adds to a run's image. */
export interface ProjectImage {
  workspace: { path: string; id: string };
  containerfile?: string;
  devcontainer?: Devcontainer;
}

interface BuildChoice {
  rebuild?: boolean;
  noCache?: boolean;
  progress?: Progress;
}

export async function planDevAgent(
  agent: AgentSpec,
  dev: Devcontainer,
  install: Install,
  settings: BuildSettings,
  base?: string,
): Promise<LayerRecipe> {
  const from = base ?? ('image' in dev.source ? dev.source.image : (await devBuildTag(dev.source)).tag);
  return devAgentRecipe(
    from,
    agent,
    install,
    await nodeTarballs(settings.cacheDir),
    detectHostCa(settings.hostCa),
  );
}

export async function ensureDevAgentImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  dev: Devcontainer,
  opts: BuildChoice & { version?: string; settings: BuildSettings },
): Promise<string> {
  const progress = opts.progress ?? silentProgress();
  const install = await resolveAgentVersion(agent, opts.version);
  const base = await ensureDevBase(engine, dev, {
    progress,
    ...(opts.rebuild ? { rebuild: true } : {}),
    ...(opts.noCache ? { noCache: true } : {}),
  });
  const recipe = await planDevAgent(agent, dev, install, opts.settings, base);
  if (!opts.rebuild && (await engine.imageExists(recipe.tag))) return recipe.tag;
  const label = `${agent.name}: ${install.package}@${install.version} onto ${base}`;
  await buildStep(engine, recipe, label, [1, 1], { ...opts, progress });
  progress.done(`built ${recipe.tag}`);
  return recipe.tag;
}

export async function ensureProjectImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  parentTag: string,
  project: ProjectImage,
  opts: BuildChoice & { settings: BuildSettings },
): Promise<string> {
  const file = project.containerfile!;
  const recipe = await projectRecipe(parentTag, agent, file, project.workspace);
  if (!recipe) return parentTag;
  if (!opts.rebuild && (await engine.imageExists(recipe.tag))) return recipe.tag;
  const progress = opts.progress ?? silentProgress();
  await buildStep(engine, recipe, `project: ${relative(project.workspace.path, file)}`, [1, 1], {
    ...opts,
    progress,
  });
  progress.done(`built ${recipe.tag}`);
  return recipe.tag;
}
