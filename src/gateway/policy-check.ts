/**
 * Checking that an egress policy is well formed, by hand rather than with zod: this runs on every
 * start behind the gateway, and loading zod there cost ~50 ms. Each check returns the normalised
 * value or the issues found, each with the path of the offending key.
 */
import { isIP } from 'node:net';
import { normalizeHost } from './addresses.js';

export const RULE_SOURCES = ['agent', 'global', 'project', 'flag', 'preset'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export interface Rule {
  action: 'allow' | 'deny';
  /** Normalised: lower case, no trailing dot, IPv6 without brackets. */
  host: string;
  /**
   * A port, or `*` for any port. Without one, an allow rule covers 443 and 80 only (HTTPS and
   * HTTP): a bare domain must not open SSH, databases or anything else on that host. A deny rule
   * without one covers every port.
   */
  port?: number | '*';
  /** Upper case. */
  methods?: string[];
  pathPrefix?: string;
  source: RuleSource;
}
export type RuleInput = Omit<Rule, 'source'> & { source?: RuleSource };

export interface EgressPolicy {
  rules: Rule[];
  /** Hosts whose TLS the gateway terminates (needed for method/path rules and credential injection). */
  intercept: string[];
  /** Ports on the host that sandboxes may reach; `hostAddresses` says what "the host" is. */
  allowHostPorts: number[];
  /** Names and addresses of the host as seen from the gateway, e.g. the bridge gateway IP. */
  hostAddresses: string[];
  /**
   * Every other address of the host (all its interfaces, the engines' bridges), collected on the
   * host: refused whatever the rules say. The host is reached only by its alias, on an allowed port.
   */
  hostRefused?: string[];
}
export type EgressPolicyInput = Partial<Omit<EgressPolicy, 'rules'>> & { rules?: RuleInput[] };

export interface Issue {
  path: (string | number)[];
  message: string;
}
export type Checked<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const HOST_EXPECTED = 'expected a host name, *.suffix, * or an IP address';

const fail = <T>(path: Issue['path'], message: string): Checked<T> => ({
  ok: false,
  issues: [{ path, message }],
});
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `*` (anything), `*.suffix` (any subdomain, not the suffix itself), a DNS name, or an IP literal. */
export function checkHost(raw: unknown, path: Issue['path'] = []): Checked<string> {
  if (typeof raw !== 'string') return fail(path, 'expected a string');
  // `*.` would otherwise lose its dot to normalisation and become `*`, which matches everything.
  if (raw.trim() === '*.') return fail(path, HOST_EXPECTED);
  const h = normalizeHost(raw);
  const ok = h === '*' || isIP(h) !== 0 || DNS_NAME.test(h.startsWith('*.') ? h.slice(2) : h);
  return ok ? { ok: true, value: h } : fail(path, HOST_EXPECTED);
}

function checkPort(
  raw: unknown,
  path: Issue['path'],
  expected = 'expected a port number from 1 to 65535',
): Checked<number> {
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= 65535
    ? { ok: true, value: raw }
    : fail(path, expected);
}

const RULE_KEYS = ['action', 'host', 'port', 'methods', 'pathPrefix', 'source'];

export function checkRule(raw: unknown, path: Issue['path'] = []): Checked<Rule> {
  if (!isObject(raw)) return fail(path, 'expected a rule object');
  const issues: Issue[] = [];
  const unknown = Object.keys(raw).filter((k) => !RULE_KEYS.includes(k));
  if (unknown.length)
    issues.push({
      path,
      message: `unknown key ${unknown.join(', ')} (expected one of: ${RULE_KEYS.join(', ')})`,
    });
  if (raw.action !== 'allow' && raw.action !== 'deny')
    issues.push({ path: [...path, 'action'], message: 'expected allow or deny' });
  const host = checkHost(raw.host, [...path, 'host']);
  if (!host.ok) issues.push(...host.issues);
  const port =
    raw.port === undefined || raw.port === '*'
      ? undefined
      : checkPort(raw.port, [...path, 'port'], 'expected a port number from 1 to 65535, or *');
  if (port && !port.ok) issues.push(...port.issues);
  let methods: string[] | undefined;
  if (raw.methods !== undefined) {
    const list = Array.isArray(raw.methods) ? raw.methods : [];
    methods = list.map((m) => (typeof m === 'string' ? m.toUpperCase() : ''));
    if (!methods.length || methods.some((m) => !/^[A-Z]+$/.test(m)))
      issues.push({ path: [...path, 'methods'], message: 'expected a list of HTTP methods' });
  }
  const prefix = raw.pathPrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || !prefix.startsWith('/')))
    issues.push({ path: [...path, 'pathPrefix'], message: 'a path prefix starts with /' });
  const source = raw.source ?? 'global';
  if (!RULE_SOURCES.includes(source as RuleSource))
    issues.push({ path: [...path, 'source'], message: `expected one of: ${RULE_SOURCES.join(', ')}` });
  if (issues.length || !host.ok) return { ok: false, issues };
  return {
    ok: true,
    value: {
      action: raw.action as Rule['action'],
      host: host.value,
      ...(port?.ok ? { port: port.value } : raw.port === '*' ? { port: '*' as const } : {}),
      ...(methods ? { methods } : {}),
      ...(prefix !== undefined ? { pathPrefix: prefix as string } : {}),
      source: source as RuleSource,
    },
  };
}

const POLICY_KEYS = ['rules', 'intercept', 'allowHostPorts', 'hostAddresses', 'hostRefused'];
const checkAddress = (a: unknown, path: Issue['path']): Checked<string> =>
  typeof a === 'string' ? { ok: true, value: normalizeHost(a) } : fail(path, 'expected a string');

/** Each item of an optional list, checked; a missing list is empty. */
function checkList<T>(
  raw: unknown,
  key: string,
  check: (item: unknown, path: Issue['path']) => Checked<T>,
  issues: Issue[],
): T[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({ path: [key], message: 'expected a list' });
    return [];
  }
  const out: T[] = [];
  raw.forEach((item, i) => {
    const r = check(item, [key, i]);
    if (r.ok) out.push(r.value);
    else issues.push(...r.issues);
  });
  return out;
}

export function checkPolicy(raw: unknown): Checked<EgressPolicy> {
  if (!isObject(raw)) return fail([], 'expected a policy object');
  const issues: Issue[] = [];
  const unknown = Object.keys(raw).filter((k) => !POLICY_KEYS.includes(k));
  if (unknown.length)
    issues.push({
      path: [],
      message: `unknown key ${unknown.join(', ')} (expected one of: ${POLICY_KEYS.join(', ')})`,
    });
  const value: EgressPolicy = {
    rules: checkList(raw.rules, 'rules', checkRule, issues),
    intercept: checkList(raw.intercept, 'intercept', checkHost, issues),
    allowHostPorts: checkList(raw.allowHostPorts, 'allowHostPorts', checkPort, issues),
    hostAddresses: checkList(raw.hostAddresses, 'hostAddresses', checkAddress, issues),
    ...(raw.hostRefused === undefined
      ? {}
      : { hostRefused: checkList(raw.hostRefused, 'hostRefused', checkAddress, issues) }),
  };
  return issues.length ? { ok: false, issues } : { ok: true, value };
}

/** `rules[0].host: expected …`, as config errors name keys. */
export function describe(issue: Issue): string {
  const where = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  return where ? `${where}: ${issue.message}` : issue.message;
}
