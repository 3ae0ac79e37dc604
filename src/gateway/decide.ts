/**
 * Pure policy decisions. Two moments: when a connection is asked for (CONNECT or the host of a plain
 * request: host and port only) and, where the gateway sees the HTTP request (plain HTTP or TLS
 * interception), per request with method and path. A third check runs on the addresses a name
 * resolved to, so a harmless-looking name cannot lead to the metadata service or the host.
 */
import { isIP } from 'node:net';
import { authority, classifyAddress, embeddedV4, isIpLiteral, normalizeHost } from './addresses.js';
import { checkPath } from './paths.js';
import { type EgressPolicy, formatRule, hostMatches, isRequestScoped, type Rule } from './policy.js';

export interface EgressQuery {
  host: string;
  port: number;
  /** Absent for a connection-level decision (CONNECT before any request is seen). */
  method?: string;
  /** Path and query of the request, when known. */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** The rule that decided, if one did. */
  rule?: Rule;
  /** One sentence for the 403 body and the audit log. */
  reason: string;
  /** The command that would allow this, when allowing it is a reasonable thing to suggest. */
  suggestion?: string;
}

/**
 * The path as an upstream server will most likely read it: dot segments resolved, backslashes as
 * slashes, query dropped. Prefix rules compare against this so `/ok/../secret` is not `/ok/`.
 */
export function canonicalPath(path: string): string {
  const q = path.search(/[?#]/);
  const raw = q === -1 ? path : path.slice(0, q);
  // Concatenate rather than resolve against a base: a path starting `//` must stay a path.
  return new URL(`http://x${raw.startsWith('/') ? raw : `/${raw}`}`).pathname;
}

const PROTECTED_WORDS: Record<string, string> = {
  metadata: 'a cloud metadata address',
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  private: 'a private-network address',
  reserved: 'a reserved address',
};

/** A rule without a port: an allow covers HTTPS and HTTP only, a deny covers every port. */
export function portMatches(rule: Pick<Rule, 'action' | 'port'>, port: number): boolean {
  if (rule.port === '*') return true;
  if (rule.port === undefined) return rule.action === 'deny' || port === 443 || port === 80;
  return rule.port === port;
}

function requestMatches(rule: Rule, q: EgressQuery, path: string | undefined): boolean {
  if (q.method === undefined) return true;
  if (rule.methods && !rule.methods.includes(q.method.toUpperCase())) return false;
  if (rule.pathPrefix !== undefined && (path === undefined || !path.startsWith(rule.pathPrefix)))
    return false;
  return true;
}

function allowCommand(q: EgressQuery, host: string): string {
  const port = q.port === 443 || q.port === 80 ? undefined : q.port;
  const text = formatRule({ host, port });
  return `corral egress allow ${text}`;
}

function isHostAddress(policy: EgressPolicy, host: string): boolean {
  return policy.hostAddresses.includes(host);
}

/**
 * One of the host's own addresses (any interface, any engine bridge), IPv4-mapped forms included.
 * Every IPv6 link-local address counts, whatever the rules: the host's are not listed (one per
 * container's veth, host-addresses.ts), and none is a service a sandbox needs through the gateway.
 */
function isHostRefused(policy: EgressPolicy, address: string): boolean {
  const list = policy.hostRefused ?? [];
  if (!list.length || !isIpLiteral(address)) return false;
  if (isIP(address) === 6 && classifyAddress(address) === 'link-local') return true;
  const v4 = embeddedV4(address);
  return list.includes(address) || (v4 !== undefined && list.includes(v4));
}

/** The host's alias as the sandbox knows it (host.containers.internal or host.docker.internal). */
function hostAliasOf(policy: EgressPolicy): string {
  return policy.hostAddresses.find((a) => !isIpLiteral(a)) ?? 'host.containers.internal';
}

/** A runnable command that opens a host port for the workspace's running gateway and later runs. */
function hostPortCommand(alias: string, port: number): string {
  return `corral egress allow ${alias}:${port}`;
}

function hostRefusal(policy: EgressPolicy, q: { host: string; port: number }, address: string): Decision {
  const via = q.host === address ? '' : ` (${q.host} resolves to it)`;
  const alias = hostAliasOf(policy);
  return {
    allowed: false,
    reason: `${address} is an address of the host${via}; the host is reached only by its alias (${alias}) on an allowed port (corral run --allow-host PORT, or \`${hostPortCommand(alias, q.port)}\`)`,
    suggestion: hostPortCommand(alias, q.port),
  };
}

/** Decide on a connection (no method) or a request (method and path) against the policy's rules. */
export function decide(policy: EgressPolicy, query: EgressQuery): Decision {
  const host = normalizeHost(query.host);
  const q = { ...query, host };
  const requestLevel = q.method !== undefined;
  let path: string | undefined;
  if (requestLevel && q.path !== undefined) {
    const checked = checkPath(q.path);
    if (!checked.ok) return { allowed: false, reason: `refused ${q.path}: ${checked.reason}` };
    path = checked.path;
  }
  const matching = policy.rules.filter(
    (r) =>
      hostMatches(r.host, host) &&
      portMatches(r, q.port) &&
      // Connection level: deny rules scoped to a method or path cannot be judged yet (the request
      // check will); allow rules scoped that way let the connection open for that check to happen.
      (requestLevel ? requestMatches(r, q, path) : !(r.action === 'deny' && isRequestScoped(r))),
  );
  const deny = matching.find((r) => r.action === 'deny');
  if (deny) {
    return {
      allowed: false,
      rule: deny,
      reason: `denied by rule "deny ${formatRule(deny)}" from ${describeSource(deny)}`,
    };
  }

  if (isHostAddress(policy, host)) return decideHostPort(policy, q, matching);
  // Whatever the rules say, `*` and the open preset included.
  if (isHostRefused(policy, host)) return hostRefusal(policy, q, host);

  const allow = matching.find((r) => r.action === 'allow');
  if (isIpLiteral(host)) {
    const cls = classifyAddress(host);
    const named = matching.some((r) => r.action === 'allow' && r.host === host);
    if (cls !== 'public' && !named) return protectedAddress(q, host, host, cls);
  }
  if (allow) return { allowed: true, rule: allow, reason: `allowed by rule "${formatRule(allow)}"` };

  const hostOnly = policy.rules.some(
    (r) => r.action === 'allow' && hostMatches(r.host, host) && portMatches(r, q.port),
  );
  if (requestLevel && hostOnly) {
    const what = `${q.method!.toUpperCase()} ${authority(host, q.port)}${path ?? ''}`;
    return {
      allowed: false,
      reason: `no rule allows ${what}; the rules for ${host} allow other methods or paths only`,
      suggestion: `corral egress allow '${formatRule({ host, methods: [q.method!.toUpperCase()], pathPrefix: path })}'`,
    };
  }
  return {
    allowed: false,
    reason: `no rule allows ${authority(host, q.port)}`,
    suggestion: allowCommand(q, host),
  };
}

function decideHostPort(
  policy: EgressPolicy,
  q: EgressQuery,
  matching: readonly Rule[],
  name: string = q.host,
): Decision {
  if (policy.allowHostPorts.includes(q.port)) {
    return { allowed: true, reason: `host port ${q.port} is allowed` };
  }
  // `corral egress allow host.containers.internal:8080`: a rule naming the host exactly, with an
  // exact port. Wildcards (`*`, the open preset, `:*`) never open the host.
  const named = matching.find((r) => r.action === 'allow' && r.host === name && r.port === q.port);
  if (named) return { allowed: true, rule: named, reason: `allowed by rule "${formatRule(named)}"` };
  const alias = isIpLiteral(name) ? hostAliasOf(policy) : name;
  return {
    allowed: false,
    reason: `${authority(q.host, q.port)} is the host, and port ${q.port} is not an allowed host port`,
    suggestion: hostPortCommand(alias, q.port),
  };
}

function protectedAddress(q: EgressQuery, host: string, address: string, cls: string): Decision {
  const via = host === address ? '' : ` (${host} resolves to ${address})`;
  const reason = `${address} is ${PROTECTED_WORDS[cls] ?? 'a protected address'}${via}, refused unless a rule names it`;
  // Suggesting to open the metadata service would be suggesting a credential leak.
  if (cls === 'metadata') return { allowed: false, reason };
  return { allowed: false, reason, suggestion: allowCommand(q, cls === 'public' ? host : address) };
}

/**
 * After resolving a name the connection-level decision allowed: may the gateway connect to these
 * addresses? Every address must pass, since any one could be the one used (DNS rebinding); the
 * proxy then connects to exactly the address checked here. A protected address passes only when a
 * rule names it, or names the host exactly (not via `*` or `*.suffix`) — except metadata addresses,
 * which only a rule naming the address itself opens.
 */
export function checkResolved(
  policy: EgressPolicy,
  query: { host: string; port: number },
  addresses: readonly string[],
): Decision | undefined {
  const host = normalizeHost(query.host);
  const names = (pattern: string, action: Rule['action']) =>
    policy.rules.find((r) => r.action === action && r.host === pattern && portMatches(r, query.port));
  for (const raw of addresses) {
    const address = normalizeHost(raw);
    if (address === host) continue; // an IP literal: decide() already judged it
    if (isHostAddress(policy, address)) {
      const d = decideHostPort(policy, { host: address, port: query.port }, policy.rules, host);
      if (!d.allowed) return d;
      continue;
    }
    if (isHostRefused(policy, address)) return hostRefusal(policy, { host, port: query.port }, address);
    const denied = policy.rules.find(
      (r) => r.action === 'deny' && r.host === address && portMatches(r, query.port) && !isRequestScoped(r),
    );
    if (denied) {
      return {
        allowed: false,
        rule: denied,
        reason: `${address} is denied by rule "deny ${formatRule(denied)}"`,
      };
    }
    const cls = classifyAddress(address);
    if (cls === 'public') continue;
    if (names(address, 'allow')) continue;
    if (cls !== 'metadata' && names(host, 'allow')) continue;
    return protectedAddress(query, host, address, cls);
  }
  return undefined;
}

/**
 * Whether the gateway must terminate TLS for a host: configured, or needed because a rule for the
 * host looks at methods or paths (otherwise such a rule could not be enforced).
 */
export function needsInterception(policy: EgressPolicy, host: string): boolean {
  const h = normalizeHost(host);
  return (
    policy.intercept.some((p) => hostMatches(p, h)) ||
    policy.rules.some((r) => isRequestScoped(r) && hostMatches(r.host, h))
  );
}

function describeSource(rule: Rule): string {
  switch (rule.source) {
    case 'agent':
      return "the agent's API domains";
    case 'global':
      return 'the global config';
    case 'project':
      return 'the project config (.corral.yaml)';
    case 'flag':
      return 'a command-line flag';
    case 'preset':
      return 'the network preset';
  }
}
