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
  const prefix = keptPrefix(real, keepPrefix);
  const tag = `corral${randomBytes(12).toString('hex')}`;
  return `${prefix}${tag.padEnd(bodyLength(real, prefix), 'x')}`;
}

function keptPrefix(real: string, keepPrefix: boolean): string {
  // Anthropic's kind marker (api03, oat01) tells a CLI an API key from an OAuth token; it is fixed
  // text, not key material. Elsewhere only the first word or two are kept — and nothing of a value
  // whose shape corral does not know (`--secret-env`): there the first words may be the secret.
  if (!keepPrefix) return '';
  return /^sk-ant-[a-z]+\d\d-/.exec(real)?.[0] ?? /^[A-Za-z]+(?:[-_][A-Za-z0-9]+)?[-_]/.exec(real)?.[0] ?? '';
}

const bodyLength = (real: string, prefix: string) => Math.max(30, real.length - prefix.length);

/** What the lingering gateway swaps back, by real value (`servedPlaceholders` in gateway/folders.ts). */
export type ServedPlaceholders = ReadonlyMap<string, string>;

/**
 * The placeholder the workspace's gateway already swaps `real` for, when it has the shape this
 * call would make; else a new one. A run like the last one (same key) then plans the settings the
 * gateway serves, and hands nothing over: ~60–100 ms off a keyed run's start (bench/startup-targets).
 * The placeholder lives as long as the gateway serves that key, and any sandbox of the workspace
 * given that key holds it anyway; a key no longer served gets a new one.
 */
export function placeholderReusing(real: string, keepPrefix: boolean, served?: ServedPlaceholders): string {
  const reuse = served?.get(real);
  const prefix = keptPrefix(real, keepPrefix);
  const ours =
    reuse?.startsWith(prefix) &&
    reuse.length === prefix.length + bodyLength(real, prefix) &&
    PLACEHOLDER_BODY.test(reuse.slice(prefix.length));
  if (reuse && ours) return reuse;
  return placeholderFor(real, keepPrefix);
}

/** What placeholderFor puts after the kept prefix. */
const PLACEHOLDER_BODY = /^corral[0-9a-f]{24}x*$/;

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
  served?: ServedPlaceholders,
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
      placeholder = placeholderReusing(value, true, served);
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
