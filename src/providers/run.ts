/**
 * A provider for one run (`corral run A --provider NAME [--model M]`): is the agent able to speak
 * to it, which model, and the key as the gateway will inject it (the sandbox holds a placeholder).
 */
import type { AgentSpec, Wire } from '../agents/types.js';
import { CorralError } from '../errors.js';
import { KEY_HEADER } from './discover.js';
import { getProvider, type Provider, type ProviderKind, providerKey } from './store.js';

/** Which agent wire formats each kind serves (Ollama serves OpenAI's Chat and Responses APIs at /v1). */
const SERVES: Record<ProviderKind, readonly Wire[]> = {
  openai: ['openai-chat', 'openai-responses'],
  anthropic: ['anthropic'],
  gemini: ['gemini'],
  ollama: ['openai-chat', 'openai-responses'],
};

export function servesAgent(kind: ProviderKind, agent: AgentSpec): boolean {
  return Boolean(agent.endpoint && SERVES[kind].includes(agent.endpoint.wire));
}

export interface RunProvider {
  provider: Provider;
  model: string | undefined;
  /** The real key (host side only), or undefined for an endpoint without one. */
  key: string | undefined;
  header: (typeof KEY_HEADER)[ProviderKind];
}

export async function resolveRunProvider(
  agent: AgentSpec,
  name: string,
  model: string | undefined,
  agentNames: readonly AgentSpec[],
): Promise<RunProvider> {
  const provider = await getProvider(name);
  if (!agent.endpoint) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} cannot be pointed at a model provider by corral.`,
      agent.notes.join(' ') || undefined,
    );
  }
  if (!servesAgent(provider.kind, agent)) {
    const fits = agentNames.filter((a) => servesAgent(provider.kind, a)).map((a) => a.name);
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} speaks the ${agent.endpoint.wire} API; provider "${name}" is of kind ${provider.kind}.`,
      `Agents that can use it: ${fits.join(', ') || 'none'}. Or add a provider of a kind ${agent.name} speaks.`,
    );
  }
  const chosen = model ?? provider.defaultModel;
  if (chosen && provider.models.length && !provider.models.includes(chosen)) {
    throw new CorralError(
      'BAD_INPUT',
      `Provider "${name}" has no model "${chosen}".`,
      `Its models: ${provider.models.slice(0, 20).join(', ')}${provider.models.length > 20 ? ', …' : ''}. A new one? \`corral provider refresh ${name}\`.`,
    );
  }
  return { provider, model: chosen, key: await providerKey(name), header: KEY_HEADER[provider.kind] };
}
