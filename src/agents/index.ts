/** The agent registry: every spec, lookup by name or alias, and endpoint rendering. */
import { CorralError } from '../errors.js';
import { auggie } from './auggie.js';
import { claude } from './claude.js';
import { codex } from './codex.js';
import { copilot } from './copilot.js';
import { devstral } from './devstral.js';
import { gemini } from './gemini.js';
import { opencode } from './opencode.js';
import { pi } from './pi.js';
import type { AgentSpec } from './types.js';

export type { AgentSpec } from './types.js';

export const AGENTS: readonly AgentSpec[] = [claude, gemini, opencode, devstral, auggie, copilot, codex, pi];

export function findAgent(nameOrAlias: string): AgentSpec | undefined {
  const key = nameOrAlias.toLowerCase();
  return AGENTS.find((a) => a.name === key || a.aliases.includes(key));
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

export function resolveAgent(nameOrAlias: string): AgentSpec {
  const found = findAgent(nameOrAlias);
  if (found) return found;
  const names = AGENTS.flatMap((a) => [a.name, ...a.aliases]);
  const best = names
    .map((n) => ({ n, d: distance(nameOrAlias.toLowerCase(), n) }))
    .sort((x, y) => x.d - y.d)[0];
  const suggestion = best && best.d <= 2 ? ` Did you mean "${best.n}"?` : '';
  throw new CorralError(
    'AGENT_UNKNOWN',
    `Unknown agent "${nameOrAlias}".${suggestion}`,
    `Known agents: ${AGENTS.map((a) => `${a.name} (${a.aliases.join(', ')})`).join(', ')}. See \`corral agents\`.`,
  );
}

export interface RenderedEndpoint {
  env: Record<string, string>;
  files: Record<string, string>;
  args: string[];
  promptArgs: string[];
}

/** Substitute {baseUrl}, {apiKey} and {prompt} into an agent's endpoint recipe. */
export function renderEndpoint(
  agent: AgentSpec,
  values: { baseUrl: string; apiKey: string; prompt?: string },
): RenderedEndpoint {
  if (!agent.endpoint)
    throw new CorralError('BAD_INPUT', `${agent.displayName} has no custom-endpoint support.`);
  const sub = (s: string) =>
    s
      .replaceAll('{baseUrl}', values.baseUrl)
      .replaceAll('{apiKey}', values.apiKey)
      .replaceAll('{prompt}', values.prompt ?? '');
  const map = (r: Record<string, string>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, sub(v)]));
  return {
    env: map(agent.endpoint.env),
    files: map(agent.endpoint.files),
    args: agent.endpoint.args.map(sub),
    promptArgs: agent.endpoint.promptArgs.map(sub),
  };
}
