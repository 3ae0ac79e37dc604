/**
 * The agent as its ACP server (used by the start when `acp` is set): its command, and the image
 * layer of an adapter package when its ACP server is one.
 */
import { AGENTS } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import { acpAdapterRecipe, ensureAcpImage } from '../../images/acp.js';
import { buildSettings } from '../../sandbox/image.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput } from '../types.js';

/**
 * The agent as its ACP server: the same spec with the ACP command (its own with `--acp`, or an
 * adapter's) as its command, so every option of a run applies to it.
 */
export function acpAgent(agent: AgentSpec): AgentSpec {
  if (!agent.acp) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no ACP server corral knows of.`,
      `Agents with one: ${AGENTS.filter((a) => a.acp)
        .map((a) => a.name)
        .join(', ')} (see \`corral agents\`).`,
    );
  }
  const { headlessYoloArgs: _, ...rest } = agent;
  return { ...rest, command: [...(agent.acp.command ?? agent.command), ...agent.acp.args] };
}

/** An agent whose ACP server is an adapter package runs on its image plus that package. */
export async function withAcpAdapter(
  engine: ContainerEngine,
  image: string,
  agent: AgentSpec,
  config: Config,
  opts: StartSandboxInput,
  ctx: CoreContext,
): Promise<string> {
  if (!agent.acp?.adapter) return image;
  if (opts.dryRun) return acpAdapterRecipe(image, agent)!.tag;
  return ensureAcpImage(engine, image, agent, {
    settings: buildSettings(config),
    progress: ctx.events.progress(),
    ...(opts.noCache ? { noCache: true } : {}),
  });
}
