/**
 * `--provider NAME [--model M]` for one run: the provider's URL becomes the run's model URL, and
 * its key becomes a credential the gateway injects on requests to that host, while the agent's own
 * config (written from its spec's endpoint recipe) holds a placeholder of the same shape.
 */
import { AGENTS, renderEndpoint } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { CorralError } from '../../errors.js';
import { resolveRunProvider } from '../../providers/index.js';
import { type InjectedCredential, placeholderFor } from '../../workspace/placeholders.js';
import type { StartSandboxInput } from '../types.js';
import { isHostUrl, sandboxModelUrl } from './support.js';

/** Sent when an endpoint needs no key (agents refuse to start without one). */
const NO_KEY = 'corral-no-key';

export interface ProviderRun {
  url: string;
  apiKey: string;
  model: string | undefined;
  credential?: InjectedCredential;
}

/** The profile a start uses: a custom model endpoint gets its own unless one is named. */
export function profileFor(input: Pick<StartSandboxInput, 'modelUrl' | 'provider' | 'profile'>): string {
  return (input.modelUrl || input.provider) && (input.profile ?? 'default') === 'default'
    ? 'custom-model'
    : (input.profile ?? 'default');
}

/** `--model` needs an endpoint to choose from, and one endpoint is named at most. */
export function checkEndpointOptions(opts: Pick<StartSandboxInput, 'provider' | 'model' | 'modelUrl'>): void {
  if (opts.model && !opts.provider && !opts.modelUrl) {
    throw new CorralError(
      'BAD_INPUT',
      '--model chooses a model of a custom endpoint: give --provider NAME or --model-url URL with it.',
      'Add a provider with `corral provider add`, or choose the model in the agent itself.',
    );
  }
  if (opts.provider && opts.modelUrl) {
    throw new CorralError(
      'BAD_INPUT',
      '--provider and --model-url both name a model endpoint.',
      'Give one of them.',
    );
  }
}

export async function providerEndpoint(
  agent: AgentSpec,
  opts: Pick<StartSandboxInput, 'provider' | 'model'>,
  network: string,
  alias: string,
  /** The remote engine's ssh:// URL: its host is that machine (see isHostUrl). */
  remote?: string,
): Promise<ProviderRun> {
  const run = await resolveRunProvider(agent, opts.provider ?? '', opts.model, AGENTS);
  const url = run.provider.url;
  const base = { url, model: run.model };
  if (!run.key) return { ...base, apiKey: NO_KEY };
  // Without the gateway nothing could swap a placeholder: the agent gets the key (as with -e KEY).
  if (network !== 'gateway') return { ...base, apiKey: run.key };
  const target = new URL(sandboxModelUrl(url, alias, remote));
  // In clear only to this machine (through the host alias): never across a network.
  if (target.protocol === 'http:' && !isHostUrl(new URL(url), remote)) {
    throw new CorralError(
      'BAD_INPUT',
      `Provider "${run.provider.name}" is plain http:// on another machine: its key would cross the network unencrypted.`,
      `Serve it over https, or re-add it without a key (--no-key): corral provider add ${run.provider.name} --force …`,
    );
  }
  const placeholder = placeholderFor(run.key);
  return {
    ...base,
    apiKey: placeholder,
    credential: {
      host: target.hostname.replace(/^\[|\]$/g, ''),
      header: run.header,
      value: run.key,
      placeholder,
      ...(target.protocol === 'http:' ? { plain: true } : {}),
    },
  };
}

/**
 * The agent pointed at the run's model URL (env, files, args from its spec's endpoint recipe) and
 * the args of a headless prompt: the agent's own headless flags when no endpoint is involved.
 */
export function endpointAndPrompt(
  agent: AgentSpec,
  opts: StartSandboxInput,
  providerModel: string | undefined,
  alias: string,
  remote: string | undefined,
): {
  endpoint: { env: Record<string, string>; files: Record<string, string>; args: string[] } | undefined;
  promptArgs: string[];
} {
  if (opts.prompt && !opts.modelUrl && !agent.endpoint && agent.headlessArgs)
    return {
      endpoint: undefined,
      promptArgs: agent.headlessArgs.map((a) => a.replaceAll('{prompt}', opts.prompt ?? '')),
    };
  if (!opts.modelUrl && !opts.prompt) return { endpoint: undefined, promptArgs: [] };
  if (!agent.endpoint) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} cannot be pointed at a custom model endpoint or given a headless prompt by corral.`,
      agent.notes.join(' ') || undefined,
    );
  }
  const model = providerModel ?? opts.model;
  const rendered = renderEndpoint(agent, {
    baseUrl: opts.modelUrl ? sandboxModelUrl(opts.modelUrl, alias, remote) : '',
    apiKey: opts.modelKey ?? 'corral-scripted',
    ...(model ? { model } : {}),
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
  });
  return {
    endpoint: opts.modelUrl ? { env: rendered.env, files: rendered.files, args: rendered.args } : undefined,
    promptArgs: opts.prompt ? rendered.promptArgs : [],
  };
}
