/**
 * Listing and pruning corral's images. An image counts as corral's when it carries corral's label
 * and is tagged under localhost/corral/ (or is untagged): images a user builds FROM a corral image
 * inherit the label, but not the name, and are never touched.
 */
import type { AgentSpec } from '../agents/types.js';
import type { ContainerEngine } from '../engine/index.js';
import { type BuildSettings, planAgentImage, resolveAgentVersion } from './build.js';
import { LABEL_IMAGE, REPO } from './recipes.js';

export interface CorralImage {
  tag: string;
  id: string;
  kind: string;
  agent?: string;
  version?: string;
  size: number;
  created: number;
  current: boolean;
}

/** Tags the current recipes produce for these agents (with their configured versions). */
export async function currentTags(
  agents: readonly AgentSpec[],
  versions: Record<string, string | undefined>,
  settings: BuildSettings,
): Promise<Set<string>> {
  const tags = new Set<string>();
  for (const agent of agents) {
    const requested = versions[agent.name];
    // `latest` would need the registry; its current tag is whatever was built last, so keep all.
    if (requested === 'latest') continue;
    const plan = await planAgentImage(agent, await resolveAgentVersion(agent, requested), settings);
    tags.add(plan.rootfs.tag);
    for (const l of plan.layers) tags.add(l.tag);
  }
  return tags;
}

export const isCorralTag = (tag: string): boolean => tag.startsWith(`${REPO}/`);

export async function listCorralImages(
  engine: ContainerEngine,
  current: Set<string>,
): Promise<CorralImage[]> {
  const images = await engine.listImages([LABEL_IMAGE]);
  return images
    .filter((i) => i.tags.length === 0 || i.tags.some(isCorralTag))
    .flatMap((i) =>
      (i.tags.length
        ? i.tags.filter(isCorralTag)
        : [`<untagged ${i.id.replace('sha256:', '').slice(0, 12)}>`]
      ).map((tag) => ({
        tag,
        id: i.id,
        kind: i.labels[LABEL_IMAGE] ?? '?',
        ...(i.labels['io.corral.agent'] ? { agent: i.labels['io.corral.agent'] } : {}),
        ...(i.labels['io.corral.agent-version'] ? { version: i.labels['io.corral.agent-version'] } : {}),
        size: i.size,
        created: i.created,
        current: current.has(tag),
      })),
    )
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.tag.localeCompare(b.tag));
}

/** Remove corral images no current recipe produces (all: every corral image). Newest layers first. */
export async function pruneImages(
  engine: ContainerEngine,
  current: Set<string>,
  opts: { all?: boolean } = {},
): Promise<string[]> {
  const order = ['agent', 'node', 'base', 'rootfs'];
  const images = (await listCorralImages(engine, current))
    .filter((i) => opts.all || !i.current)
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const removed: string[] = [];
  for (const i of images) {
    try {
      await engine.removeImage(i.tag.startsWith('<') ? i.id : i.tag);
      removed.push(i.tag);
    } catch {
      // In use by a container, or a parent of a kept image: leave it.
    }
  }
  return removed;
}
