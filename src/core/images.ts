/** Agent images: build (only layers whose inputs changed), list, prune, update to the newest CLI. */
import { AGENTS, resolveAgent } from '../agents/index.js';
import { CorralError } from '../errors.js';
import { ensureAgentImage, resolveAgentVersion } from '../images/build.js';
import { type CorralImage, currentTags, listCorralImages, pruneImages } from '../images/inventory.js';
import { chosenVersion, readPins, writePin } from '../images/pins.js';
import { buildSettings } from '../sandbox/image.js';
import type { CoreContext } from './context.js';
import type { BuildImagesInput, PruneImagesInput, UpdateImagesInput } from './types.js';

export type { CorralImage };

/** The tags today's recipes make (config versions, pins, build settings): the "current" images. */
async function current(ctx: CoreContext): Promise<Set<string>> {
  const config = await ctx.config();
  const pins = await readPins();
  const versions = Object.fromEntries(
    AGENTS.map((a) => [a.name, chosenVersion(config.agents[a.name]?.version, pins, a.name)]),
  );
  return currentTags(AGENTS, versions, buildSettings(config));
}

export interface BuiltImage {
  agent: string;
  version?: string | undefined;
  tag: string;
  /** false: the image was up to date. */
  built: boolean;
}

/** Build agents' images (build progress: the caller's events); `onImage` hears each as it is done. */
export async function buildImages(
  ctx: CoreContext,
  input: BuildImagesInput,
  onImage: (image: BuiltImage) => void = () => {},
): Promise<BuiltImage[]> {
  const names = input.agents ?? [];
  if (!input.all && names.length === 0) {
    throw new CorralError(
      'BAD_INPUT',
      'Which agent images?',
      'Name agents (`corral image build claude codex`) or pass --all.',
    );
  }
  const agents = input.all ? [...AGENTS] : names.map(resolveAgent);
  const config = await ctx.config();
  const engine = await ctx.engine();
  const progress = ctx.events.progress();
  const pins = await readPins();
  const out: BuiltImage[] = [];
  for (const agent of agents) {
    const requested = input.version ?? chosenVersion(config.agents[agent.name]?.version, pins, agent.name);
    // Resolve `latest` once, so the pin and the build agree.
    const version = requested ? (await resolveAgentVersion(agent, requested)).version : undefined;
    const { tag, built } = await ensureAgentImage(engine, agent, {
      ...(version ? { version } : {}),
      ...(input.rebuild ? { rebuild: true } : {}),
      ...(input.noCache ? { noCache: true } : {}),
      settings: buildSettings(config),
      progress,
    });
    if (input.pin && version) await writePin(agent.name, version);
    const image = { agent: agent.name, ...(version ? { version } : {}), tag, built: built.length > 0 };
    out.push(image);
    onImage(image);
  }
  return out;
}

/** corral's images, each marked current or not. */
export async function listImages(ctx: CoreContext): Promise<CorralImage[]> {
  return listCorralImages(await ctx.engine(), await current(ctx));
}

/** Remove images no current recipe uses (all: every corral image); the removed tags. */
export async function pruneCorralImages(ctx: CoreContext, input: PruneImagesInput = {}): Promise<string[]> {
  return pruneImages(await ctx.engine(), await current(ctx), { ...(input.all ? { all: true } : {}) });
}

/**
 * Rebuild agents' images with the newest published CLI and pin it (default: every agent that has an
 * image). A version pinned in config still wins at run time: said through the caller's events.
 */
export async function updateImages(
  ctx: CoreContext,
  input: UpdateImagesInput,
  onImage?: (image: BuiltImage) => void,
): Promise<BuiltImage[]> {
  let targets = input.agents ?? [];
  if (!targets.length) {
    const images = await listCorralImages(await ctx.engine(), new Set());
    targets = [...new Set(images.flatMap((i) => (i.agent ? [i.agent] : [])))];
    if (!targets.length)
      throw new CorralError(
        'BAD_INPUT',
        'No agent images to update.',
        'Name an agent: `corral update claude`.',
      );
  }
  const config = await ctx.config();
  for (const a of targets.map(resolveAgent)) {
    const pinned = config.agents[a.name]?.version;
    if (pinned)
      ctx.note(
        `${a.name}: config pins ${pinned}, so runs keep using it (remove agents.${a.name}.version to follow updates)`,
      );
  }
  return buildImages(ctx, { agents: targets, version: 'latest', pin: true }, onImage);
}
