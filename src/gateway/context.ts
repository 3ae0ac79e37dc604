/**
 * What every proxy path needs: the live policy, how to resolve and check a destination, where to
 * log, and how to refuse. Shared by plain HTTP, CONNECT tunnels and intercepted requests so the
 * three cannot drift apart in what they allow.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { authority, normalizeHost } from './addresses.js';
import type { AuditLog } from './audit.js';
import type { CertificateAuthority } from './ca.js';
import type { Credential } from './credentials.js';
import { checkResolved, type Decision, decide, type EgressQuery } from './decide.js';
import type { ExchangedTokens } from './exchange.js';
import { type EgressPolicy, formatRule } from './policy.js';
import type { Resolve } from './resolve.js';

export interface GatewayContext {
  policy(): EgressPolicy;
  resolve: Resolve;
  credentials: readonly Credential[];
  /** Tokens the gateway got from token exchanges and keeps from the sandbox (exchange.ts). */
  exchanged?: ExchangedTokens;
  audit: AuditLog;
  ca?: CertificateAuthority;
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  connectTimeoutMs: number;
  /** Whether request and response bodies go into the audit log (opt-in), as it is now. */
  logBodies(): boolean;
}

export type Admission =
  | { ok: true; address: string; decision: Decision }
  | { ok: false; status: 403 | 502; decision: Decision };

/**
 * The whole gate for one connection or request: rules, then resolution, then the resolved
 * addresses. On success `address` is the one to connect to — never resolve the name again.
 */
export async function admit(ctx: GatewayContext, query: EgressQuery): Promise<Admission> {
  const policy = ctx.policy();
  const host = normalizeHost(query.host);
  const decision = decide(policy, { ...query, host });
  if (!decision.allowed) return { ok: false, status: 403, decision };
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await ctx.resolve(host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return {
      ok: false,
      status: 502,
      decision: { allowed: false, reason: `cannot resolve ${host} (${code})` },
    };
  }
  if (addresses.length === 0) {
    return { ok: false, status: 502, decision: { allowed: false, reason: `${host} has no addresses` } };
  }
  const refused = checkResolved(policy, { host, port: query.port }, addresses);
  if (refused) return { ok: false, status: 403, decision: refused };
  return { ok: true, address: addresses[0]!, decision };
}

export function ruleText(d: Decision): string | undefined {
  return d.rule ? `${d.rule.action} ${formatRule(d.rule)}` : undefined;
}

/** The plain-text body of a refusal: what was blocked, why, and the command that would allow it. */
export function refusalBody(what: string, d: Decision): string {
  const lines = [`corral egress gateway: blocked ${what}`, `Reason: ${d.reason}.`];
  if (d.suggestion) lines.push(`To allow it, run: ${d.suggestion}`);
  return `${lines.join('\n')}\n`;
}

/** Describe a request for messages: `GET example.com:8080/path`. */
export function describeTarget(
  method: string | undefined,
  host: string,
  port: number,
  path?: string,
): string {
  return `${method ? `${method} ` : ''}${authority(host, port)}${path ?? ''}`;
}
