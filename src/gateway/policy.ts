/**
 * The egress policy as data: rules, presets and the textual rule form (`GET api.github.com/repos/`)
 * the CLI and the 403 messages share. Deciding lives in decide.ts; this file only says what a
 * policy is and checks that one is well formed.
 */
import { CorralError } from '../errors.js';
import { authority } from './addresses.js';
import {
  checkPolicy,
  checkRule,
  describe,
  type EgressPolicy,
  type Rule,
  type RuleInput,
  type RuleSource,
} from './policy-check.js';

export {
  checkHost,
  type EgressPolicy,
  type EgressPolicyInput,
  RULE_SOURCES,
  type Rule,
  type RuleInput,
  type RuleSource,
} from './policy-check.js';

export const PRESETS = ['agent', 'dev', 'open', 'none'] as const;
export type Preset = (typeof PRESETS)[number];

export function parsePolicy(input: unknown, source = 'egress policy'): EgressPolicy {
  const r = checkPolicy(input);
  if (r.ok) return r.value;
  throw new CorralError(
    'CONFIG_INVALID',
    `Invalid ${source}:\n  ${r.issues.map(describe).join('\n  ')}`,
    'A rule needs action (allow|deny) and host (name, *.suffix or IP); port, methods and pathPrefix are optional.',
  );
}

/** Package registries and git hosts a developer's agent usually needs, on top of the agent's API. */
export const DEV_DOMAINS = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'crates.io',
  'static.crates.io',
  'index.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
  'repo.maven.apache.org',
  'repo1.maven.org',
  'rubygems.org',
  'github.com',
  'api.github.com',
  'codeload.github.com',
  '*.githubusercontent.com',
  'gitlab.com',
  'bitbucket.org',
  'deb.debian.org',
  'security.debian.org',
] as const;

export function presetRules(preset: Preset, agentDomains: readonly string[] = []): Rule[] {
  const allow = (host: string, source: RuleSource, port?: '*'): Rule => {
    const r = checkRule({ action: 'allow', host, source, ...(port ? { port } : {}) });
    if (!r.ok)
      throw new CorralError(
        'CONFIG_INVALID',
        `Invalid allowed domain "${host}": ${r.issues.map(describe).join('; ')}`,
      );
    return r.value;
  };
  switch (preset) {
    case 'none':
      return [];
    case 'open':
      // Open means every host on every port; the host's own addresses stay closed (decide.ts).
      return [allow('*', 'preset', '*')];
    case 'agent':
      return agentDomains.map((d) => allow(d, 'agent'));
    case 'dev':
      return [...agentDomains.map((d) => allow(d, 'agent')), ...DEV_DOMAINS.map((d) => allow(d, 'preset'))];
  }
}

export interface BuildPolicyInput {
  preset?: Preset;
  /** The agent's API domains (AgentSpec.apiDomains); allowed by every preset but `none`. */
  agentDomains?: readonly string[];
  /** Rules from config and flags, in any order: deny always beats allow. */
  rules?: readonly RuleInput[];
  intercept?: readonly string[];
  /** Terminate TLS for the agent's API domains (the default), so credentials can be injected. */
  interceptAgentDomains?: boolean;
  allowHostPorts?: readonly number[];
  hostAddresses?: readonly string[];
}

/**
 * A policy from a preset plus configured rules. `none` means no egress at all: configured allow
 * rules and host ports are dropped rather than quietly reopening what the user closed.
 */
export function buildPolicy(input: BuildPolicyInput = {}): EgressPolicy {
  const preset = input.preset ?? 'agent';
  const agentDomains = input.agentDomains ?? [];
  const extra = (input.rules ?? []).filter((r) => preset !== 'none' || r.action === 'deny');
  const intercept = [...(input.intercept ?? [])];
  if (preset !== 'none' && (input.interceptAgentDomains ?? true)) intercept.push(...agentDomains);
  return parsePolicy({
    rules: [...presetRules(preset, agentDomains), ...extra],
    intercept,
    allowHostPorts: preset === 'none' ? [] : [...(input.allowHostPorts ?? [])],
    hostAddresses: [...(input.hostAddresses ?? [])],
  });
}

export const RULE_FORM = '[METHOD[,METHOD] ]host[:port|:*][/path]';
const RULE_EXAMPLES =
  'e.g. "api.github.com" (ports 443 and 80), "db.example.com:5432", "github.com:22", "example.com:*" (any port), "GET api.github.com/repos/acme/"';

/**
 * Parse the textual rule form: `[METHOD[,METHOD] ]host[:port|:*][/path-prefix]` (methods in
 * capitals, so a stray space in a host name is an error rather than a method), e.g.
 * `api.github.com`, `*.npmjs.org`, `localhost:8080`, `example.com:*`,
 * `GET,HEAD api.github.com/repos/acme/`, `[fd00::1]:443`. Without a port an allow rule covers
 * 443 and 80; `:*` is any port.
 */
export function parseRule(text: string, action: Rule['action'], source: RuleSource = 'flag'): Rule {
  const m = /^\s*(?:([A-Z]+(?:,[A-Z]+)*)\s+)?(\[[^\]]+\]|[^/:\s]+)(?::(\d+|\*))?(\/\S*)?\s*$/.exec(text);
  const bad = (why?: string) =>
    new CorralError(
      'BAD_INPUT',
      `Cannot read egress rule "${text}"${why ? `: ${why}` : ''}`,
      `Write it as ${RULE_FORM}, ${RULE_EXAMPLES}.`,
    );
  if (!m) throw bad();
  const r = checkRule({
    action,
    host: m[2],
    ...(m[3] === undefined ? {} : { port: m[3] === '*' ? '*' : Number(m[3]) }),
    ...(m[1] ? { methods: m[1].split(',') } : {}),
    ...(m[4] ? { pathPrefix: m[4] } : {}),
    source,
  });
  if (!r.ok) throw bad(r.issues.map((i) => i.message).join('; '));
  return r.value;
}

/**
 * Check rule texts before anything is created, so a typo stops a run with one message naming the
 * rule and where it came from (a flag or a config key), not halfway through starting containers.
 */
export function checkRuleTexts(lists: { where: string; action: Rule['action']; rules: readonly string[] }[]) {
  for (const { where, action, rules } of lists) {
    rules.forEach((text, i) => {
      try {
        parseRule(text, action);
      } catch (e) {
        if (!(e instanceof CorralError)) throw e;
        const at = where.startsWith('--') ? where : `${where}[${i}]`;
        throw new CorralError('BAD_INPUT', `${e.message} (${at})`, e.hint);
      }
    });
  }
}

/** A run's rules from config and flags, all checked before anything is created. */
export function checkEgressRules(
  egress: { allow: readonly string[]; deny: readonly string[] },
  flags: { allow?: readonly string[]; deny?: readonly string[] },
): void {
  checkRuleTexts([
    { where: 'egress.allow', action: 'allow', rules: egress.allow },
    { where: 'egress.deny', action: 'deny', rules: egress.deny },
    { where: '--allow', action: 'allow', rules: flags.allow ?? [] },
    { where: '--deny', action: 'deny', rules: flags.deny ?? [] },
  ]);
}

/** The inverse of parseRule, for messages: `GET,POST api.github.com:443/repos/`. */
export function formatRule(rule: Pick<Rule, 'host' | 'port' | 'methods' | 'pathPrefix'>): string {
  const methods = rule.methods?.length ? `${rule.methods.join(',')} ` : '';
  const bare = authority(rule.host, 0).replace(/:0$/, '');
  const host =
    rule.port === undefined ? bare : rule.port === '*' ? `${bare}:*` : authority(rule.host, rule.port);
  return `${methods}${host}${rule.pathPrefix ?? ''}`;
}

/** Does a rule's host pattern cover this (normalised) host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Whether a rule can only be enforced by seeing the HTTP request, i.e. with TLS interception. */
export function isRequestScoped(rule: Rule): boolean {
  return rule.methods !== undefined || rule.pathPrefix !== undefined;
}
