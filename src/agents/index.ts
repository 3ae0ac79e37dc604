/** The agent registry: every spec, lookup by name or alias, and endpoint rendering. */
import { CorralError } from '../errors.js';
import { aider } from './aider.js';
import { auggie } from './auggie.js';
import { claude } from './claude.js';
import { cline } from './cline.js';
import { codebuff } from './codebuff.js';
import { codex } from './codex.js';
import { copilot } from './copilot.js';
import { crush } from './crush.js';
import { devstral } from './devstral.js';
import { gemini } from './gemini.js';
import { hermes } from './hermes.js';
import { kilo } from './kilo.js';
import { opencode } from './opencode.js';
import { pi } from './pi.js';
import { qwen } from './qwen.js';
import type { AgentSpec } from './types.js';

export type { AgentSpec } from './types.js';

export const AGENTS: readonly AgentSpec[] = [
  claude,
  gemini,
  opencode,
  devstral,
  auggie,
  copilot,
  codex,
  pi,
  qwen,
  cline,
  kilo,
  crush,
  aider,
  hermes,
  codebuff,
];

export function findAgent(nameOrAlias: string): AgentSpec | undefined {
  const key = nameOrAlias.trim().toLowerCase();
  return AGENTS.find((a) => a.name === key || a.aliases.includes(key));
}

/** Edit distance counting a swap of two neighbours as one edit ("copliot" is one away from "copilot"). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name or alias closest to a typo, if it is close enough to be a plausible slip: about one
 * edit per three letters, and never a word that would have to be replaced entirely ("foo" is not "o").
 */
export function suggestAgent(typo: string): string | undefined {
  const input = typo.trim().toLowerCase();
  let best: { word: string; d: number } | undefined;
  for (const word of AGENTS.flatMap((a) => [a.name, ...a.aliases])) {
    const d = editDistance(input, word);
    const limit = Math.max(1, Math.floor(Math.max(input.length, word.length) / 3));
    if (d > limit || d >= word.length) continue;
    if (!best || d < best.d) best = { word, d };
  }
  return best?.word;
}

export function resolveAgent(nameOrAlias: string): AgentSpec {
  const found = findAgent(nameOrAlias);
  if (found) return found;
  const suggestion = suggestAgent(nameOrAlias);
  throw new CorralError(
    'AGENT_UNKNOWN',
    `Unknown agent "${nameOrAlias}".${suggestion ? ` Did you mean "${suggestion}"?` : ''}`,
    `Known agents: ${AGENTS.map((a) => `${a.name} (${a.aliases.join(', ')})`).join(', ')}. See \`corral agents\`; define your own under agents.<name> (command, image or containerfile) in config.`,
  );
}

export interface EndpointValues {
  /** Where the sandbox reaches the model server, without a trailing slash or `/v1`. */
  baseUrl: string;
  apiKey: string;
  /** The model to use; the recipe's defaultModel when absent (its modelEnv is then left out). */
  model?: string;
  /** The headless prompt; only promptArgs use it. */
  prompt?: string;
}

export interface RenderedEndpoint {
  env: Record<string, string>;
  files: Record<string, string>;
  args: string[];
  promptArgs: string[];
}

const PLACEHOLDER = /\{(baseUrl|apiKey|model|prompt)\}/g;

/**
 * Substitute {baseUrl}, {apiKey}, {model} and {prompt} into an agent's endpoint recipe. One pass, so a value
 * that itself contains "{apiKey}" stays literal. In files the placeholders sit inside double-quoted
 * JSON or TOML strings, so values are escaped for those (both accept JSON's escapes).
 */
export function renderEndpoint(agent: AgentSpec, values: EndpointValues): RenderedEndpoint {
  if (!agent.endpoint) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no custom-endpoint support.`,
      agent.notes.join(' ') || undefined,
    );
  }
  const raw: Record<string, string> = {
    baseUrl: values.baseUrl.replace(/\/+$/, ''),
    apiKey: values.apiKey,
    model: values.model ?? agent.endpoint.defaultModel ?? '',
    prompt: values.prompt ?? '',
  };
  const sub = (s: string) => s.replace(PLACEHOLDER, (_, key: string) => raw[key] ?? '');
  const subQuoted = (s: string) =>
    s.replace(PLACEHOLDER, (_, key: string) => JSON.stringify(raw[key] ?? '').slice(1, -1));
  const map = (r: Record<string, string>, f: (s: string) => string) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));
  return {
    env: map({ ...agent.endpoint.env, ...(values.model ? agent.endpoint.modelEnv : {}) }, sub),
    files: map(agent.endpoint.files, subQuoted),
    args: agent.endpoint.args.map(sub),
    promptArgs: agent.endpoint.promptArgs.map(sub),
  };
}

/**
 * The args that name a new conversation (`assign`, when the agent lets corral choose its id) or
 * reopen one (`resume`); undefined when the agent has no such args.
 */
export function sessionArgs(
  agent: AgentSpec,
  kind: 'assign' | 'resume',
  sessionId: string,
): string[] | undefined {
  const args = kind === 'assign' ? agent.session?.assignArgs : agent.session?.resumeArgs;
  return args?.map((a) => a.replaceAll('{sessionId}', sessionId));
}

/** The agent's session id in its own output (agents that print it rather than take one). */
export function findSessionId(agent: AgentSpec, output: string): string | undefined {
  if (!agent.session?.pattern) return undefined;
  return new RegExp(agent.session.pattern).exec(output)?.[1];
}
