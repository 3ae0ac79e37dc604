/**
 * Which image a sandbox runs: the user's own (`agents.<name>.image`, pulled per policy) or corral's
 * built one (ensured, so a first run builds it and later runs start at once).
 */
import type { AgentSpec } from '../agents/types.js';
import { corralPaths } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import {
  type BuildSettings,
  ensureAgentImage,
  type Progress,
  planAgentImage,
  resolveAgentVersion,
} from '../images/build.js';
import { ensureCustomAgentImage, plannedCustomAgentImage } from '../images/custom.js';
import { chosenVersion, readPins } from '../images/pins.js';
import { projectRecipe } from '../images/project.js';
import {
  ensureDevAgentImage,
  ensureProjectImage,
  type ProjectImage,
  planDevAgent,
} from '../images/project-build.js';

export type { ProjectImage } from '../images/project-build.js';

export interface ImageChoice {
  /** --pull / --no-pull; undefined lets config decide. */
  pull?: boolean;
  rebuild?: boolean;
  noCache?: boolean;
  progress?: Progress;
}

export function buildSettings(config: Config): BuildSettings {
  return {
    cacheDir: process.env.CORRAL_CACHE_DIR ?? corralPaths.cache,
    hostCa: config.host_ca,
    ...(config.base_image ? { baseImage: config.base_image } : {}),
  };
}

/** Pull policy, most specific first: flag > agents.<name>.auto_pull > auto_pull. */
export function shouldPull(
  flag: boolean | undefined,
  agentAutoPull: boolean | undefined,
  globalAutoPull: boolean,
): boolean {
  return flag ?? agentAutoPull ?? globalAutoPull;
}

/** The image a run would use, without building or pulling anything (for --dry-run). */
export async function plannedImage(
  agent: AgentSpec,
  config: Config,
  project?: ProjectImage,
): Promise<string> {
  const own = config.agents[agent.name];
  let tag: string;
  if (own?.image) tag = own.image;
  else if (own?.containerfile)
    tag = await plannedCustomAgentImage(agent.name, own.containerfile, buildSettings(config));
  else {
    const version = chosenVersion(own?.version, await readPins(), agent.name);
    const install = await resolveAgentVersion(agent, version);
    const settings = buildSettings(config);
    tag = project?.devcontainer
      ? (await planDevAgent(agent, project.devcontainer, install, settings)).tag
      : (await planAgentImage(agent, install, settings)).layers.at(-1)!.tag;
  }
  if (!project?.containerfile) return tag;
  return (await projectRecipe(tag, agent, project.containerfile, project.workspace))?.tag ?? tag;
}

export async function resolveRunImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  config: Config,
  choice: ImageChoice,
  project?: ProjectImage,
): Promise<string> {
  const own = config.agents[agent.name];
  if (project?.devcontainer && !own?.image) {
    const version = chosenVersion(own?.version, await readPins(), agent.name);
    const tag = await ensureDevAgentImage(engine, agent, project.devcontainer, {
      ...choice,
      ...(version ? { version } : {}),
      settings: buildSettings(config),
    });
    return project.containerfile
      ? ensureProjectImage(engine, agent, tag, project, { ...choice, settings: buildSettings(config) })
      : tag;
  }
  const tag = await resolveAgentImage(engine, agent, config, choice);
  return project?.containerfile
    ? ensureProjectImage(engine, agent, tag, project, { ...choice, settings: buildSettings(config) })
    : tag;
}

async function resolveAgentImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  config: Config,
  choice: ImageChoice,
): Promise<string> {
  const own = config.agents[agent.name];
  if (own?.image) {
    const pull = shouldPull(choice.pull, own.auto_pull, config.auto_pull);
    if (pull || !(await engine.imageExists(own.image))) {
      choice.progress?.step(`pulling ${own.image}`);
      try {
        await engine.pullImage(own.image, (line) => choice.progress?.line(line));
      } catch (e) {
        if (!pull || !(await engine.imageExists(own.image))) {
          throw new CorralError(
            'IMAGE_NOT_FOUND',
            `Cannot pull ${own.image} (agents.${agent.name}.image): ${(e as Error).message}`,
            "Check the image name and registry access, or remove agents.<name>.image to use corral's built image.",
          );
        }
        choice.progress?.line(`pull failed; using the local copy of ${own.image}`);
      }
    }
    return own.image;
  }
  if (own?.containerfile) {
    return ensureCustomAgentImage(engine, agent.name, own.containerfile, {
      settings: buildSettings(config),
      ...(choice.rebuild ? { rebuild: true } : {}),
      ...(choice.noCache ? { noCache: true } : {}),
      ...(choice.progress ? { progress: choice.progress } : {}),
    });
  }
  const version = chosenVersion(own?.version, await readPins(), agent.name);
  const { tag } = await ensureAgentImage(engine, agent, {
    ...(version ? { version } : {}),
    ...(choice.rebuild ? { rebuild: true } : {}),
    ...(choice.noCache ? { noCache: true } : {}),
    settings: buildSettings(config),
    ...(choice.progress ? { progress: choice.progress } : {}),
  });
  return tag;
}
