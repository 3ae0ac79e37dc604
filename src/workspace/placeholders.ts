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
  /** Any auth scheme (or Basic auth) around the placeholder, kept as sent (src/gateway/credentials.ts). */
  anyScheme?: boolean;
  /** Requests the value may go on (a scoped GitHub token). */
  scope?: { kind: 'github'; repos?: string[]; allow?: string[] };
  /** May be injected over plain HTTP (gateway/credentials.ts). */
  plain?: boolean;
}

/**
 * Same prefix (`sk-ant-api03-`, `sk-ant-oat01-`, `sk-proj-`) and length as the real key, so a CLI that checks the
 * shape of its key accepts it, but nothing secret in it.
 */
export function placeholderFor(real: string, keepPrefix = true): string {
  // Anthropic's kind marker (api03, oat01) tells a CLI an API key from an OAuth token; it is fixed
  // text, not key material. Elsewhere only the first word or two are kept — and nothing of a value
  // whose shape corral does not know (`--secret-env`): there the first words may be the secret.
  const prefix = !keepPrefix
    ? ''
    : (/^sk-ant-[a-z]+\d\d-/.exec(real)?.[0] ?? /^[A-Za-z]+(?:[-_][A-Za-z0-9]+)?[-_]/.exec(real)?.[0] ?? '');
  const tag = `corral${randomBytes(12).toString('hex')}`;
  const body = tag.padEnd(Math.max(tag.length, real.length - prefix.length), 'x');
  return `${prefix}${body}`;
}

/** The token inside an env value: the value itself, or one string field of its JSON. */
function tokenIn(value: string, field: string | undefined): string | undefined {
  if (!field) return value;
  try {
    const v = (JSON.parse(value) as Record<string, unknown>)[field];
    return typeof v === 'string' && v ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Swap the agent's injectable keys in `env` for placeholders; returns what the gateway needs. An
 * env named by several entries (one key for several hosts) gets one placeholder.
 */
export function withPlaceholders(
  agent: AgentSpec,
  env: Record<string, string>,
  /** Values that are placeholders already (a provider's key, injected for its own host). */
  keep: readonly string[] = [],
): { env: Record<string, string>; credentials: InjectedCredential[] } {
  const out = { ...env };
  const credentials: InjectedCredential[] = [];
  const made = new Map<string, string>();
  for (const i of agent.injectable) {
    const raw = env[i.env];
    const value = raw && tokenIn(raw, i.field);
    if (!raw || !value || keep.includes(raw)) continue;
    let placeholder = made.get(i.env);
    if (!placeholder) {
      placeholder = placeholderFor(value);
      made.set(i.env, placeholder);
      out[i.env] = i.field
        ? JSON.stringify({ ...(JSON.parse(raw) as object), [i.field]: placeholder })
        : placeholder;
    }
    credentials.push({
      host: i.host,
      header: i.header,
      value,
      placeholder,
      ...(i.anyScheme ? { anyScheme: true } : {}),
    });
  }
  return { env: out, credentials };
}
