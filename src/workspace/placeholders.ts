/**
 * Behind the gateway, an agent's API key stays on the host: the sandbox gets a placeholder of the
 * same shape, and the gateway swaps the real key in on TLS requests to the provider's host only.
 */
import { randomBytes } from 'node:crypto';
import type { AgentSpec } from '../agents/types.js';

export interface InjectedCredential {
  host: string;
  header: string;
  value: string;
  placeholder: string;
  /** May be injected over plain HTTP (gateway/credentials.ts). */
  plain?: boolean;
}

/**
 * Same prefix (`sk-ant-api03-`, `sk-ant-oat01-`, `sk-proj-`) and length as the real key, so a CLI that checks the
 * shape of its key accepts it, but nothing secret in it.
 */
export function placeholderFor(real: string): string {
  // Anthropic's kind marker (api03, oat01) tells a CLI an API key from an OAuth token; it is fixed
  // text, not key material. Elsewhere only the first word or two are kept.
  const prefix =
    /^sk-ant-[a-z]+\d\d-/.exec(real)?.[0] ?? /^[A-Za-z]+(?:[-_][A-Za-z0-9]+)?[-_]/.exec(real)?.[0] ?? '';
  const tag = `corral${randomBytes(12).toString('hex')}`;
  const body = tag.padEnd(Math.max(tag.length, real.length - prefix.length), 'x');
  return `${prefix}${body}`;
}

/** Swap the agent's injectable keys in `env` for placeholders; returns what the gateway needs. */
export function withPlaceholders(
  agent: AgentSpec,
  env: Record<string, string>,
  /** Values that are placeholders already (a provider's key, injected for its own host). */
  keep: readonly string[] = [],
): { env: Record<string, string>; credentials: InjectedCredential[] } {
  const out = { ...env };
  const credentials: InjectedCredential[] = [];
  for (const i of agent.injectable) {
    const value = env[i.env];
    if (!value || keep.includes(value)) continue;
    const placeholder = placeholderFor(value);
    out[i.env] = placeholder;
    credentials.push({ host: i.host, header: i.header, value, placeholder });
  }
  return { env: out, credentials };
}
