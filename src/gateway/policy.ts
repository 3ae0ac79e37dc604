/**
 * The egress policy as data: rules, presets and the textual rule form (`GET api.github.com/repos/`)
 * the CLI and the 403 messages share. Deciding lives in decide.ts; this file only says what a
 * policy is and checks that one is well formed.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { describeIssues } from '../config/errors.js';
import { CorralError } from '../errors.js';
import { authority, normalizeHost } from './addresses.js';

export const RULE_SOURCES = ['agent', 'global', 'project', 'flag', 'preset'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export const PRESETS = ['agent', 'dev', 'open', 'none'] as const;
export type Preset = (typeof PRESETS)[number];

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** `*` (anything), `*.suffix` (any subdomain, not the suffix itself), a DNS name, or an IP literal. */
export const HostPatternSchema = z
  .string()
  // `*.` would otherwise lose its dot to normalisation and become `*`, which matches everything.
  .refine((h) => h.trim() !== '*.', 'expected a host name, *.suffix, * or an IP address')
  .transform(normalizeHost)
  .refine(
    (h) => h === '*' || isIP(h) !== 0 || DNS_NAME.test(h.startsWith('*.') ? h.slice(2) : h),
    'expected a host name, *.suffix, * or an IP address',
  );

const PortSchema = z.number().int().min(1).max(65535);

export const RuleSchema = z
  .object({
    action: z.enum(['allow', 'deny']),
    host: HostPatternSchema,
    port: PortSchema.optional(),
    methods: z
      .array(
        z
          .string()
          .transform((m) => m.toUpperCase())
          .pipe(z.string().regex(/^[A-Z]+$/, 'expected an HTTP method')),
      )
      .min(1)
      .optional(),
    pathPrefix: z.string().startsWith('/', 'a path prefix starts with /').optional(),
    source: z.enum(RULE_SOURCES).default('global'),
  })
  .strict();
export type Rule = z.output<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;

export const EgressPolicySchema = z
  .object({
    rules: z.array(RuleSchema).default([]),
    /** Hosts whose TLS the gateway terminates (needed for method/path rules and credential injection). */
    intercept: z.array(HostPatternSchema).default([]),
    /** Ports on the host that sandboxes may reach; `hostAddresses` says what "the host" is. */
    allowHostPorts: z.array(PortSchema).default([]),
    /** Names and addresses of the host as seen from the gateway, e.g. the bridge gateway IP. */
    hostAddresses: z.array(z.string().transform(normalizeHost)).default([]),
  })
  .strict();
export type EgressPolicy = z.output<typeof EgressPolicySchema>;
export type EgressPolicyInput = z.input<typeof EgressPolicySchema>;

export function parsePolicy(input: unknown, source = 'egress policy'): EgressPolicy {
  const r = EgressPolicySchema.safeParse(input);
  if (r.success) return r.data;
  throw new CorralError(
    'CONFIG_INVALID',
    `Invalid ${source}:\n  ${describeIssues(EgressPolicySchema, r.error).join('\n  ')}`,
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
  const allow = (host: string, source: RuleSource): Rule =>
    RuleSchema.parse({ action: 'allow', host, source });
  switch (preset) {
    case 'none':
      return [];
    case 'open':
      return [allow('*', 'preset')];
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

/**
 * Parse the textual rule form: `[METHOD[,METHOD] ]host[:port][/path-prefix]` (methods in capitals,
 * so a stray space in a host name is an error rather than a method), e.g.
 * `api.github.com`, `*.npmjs.org`, `localhost:8080`, `GET,HEAD api.github.com/repos/acme/`,
 * `[fd00::1]:443`.
 */
export function parseRule(text: string, action: Rule['action'], source: RuleSource = 'flag'): Rule {
  const m = /^\s*(?:([A-Z]+(?:,[A-Z]+)*)\s+)?(\[[^\]]+\]|[^/:\s]+)(?::(\d+))?(\/\S*)?\s*$/.exec(text);
  const bad = () =>
    new CorralError(
      'BAD_INPUT',
      `Cannot read egress rule "${text}"`,
      'Write it as [METHOD[,METHOD] ]host[:port][/path], e.g. "GET api.github.com/repos/acme/" or "*.npmjs.org".',
    );
  if (!m) throw bad();
  const r = RuleSchema.safeParse({
    action,
    host: m[2],
    port: m[3] === undefined ? undefined : Number(m[3]),
    methods: m[1]?.split(','),
    pathPrefix: m[4],
    source,
  });
  if (!r.success) throw bad();
  return r.data;
}

/** The inverse of parseRule, for messages: `GET,POST api.github.com:443/repos/`. */
export function formatRule(rule: Pick<Rule, 'host' | 'port' | 'methods' | 'pathPrefix'>): string {
  const methods = rule.methods?.length ? `${rule.methods.join(',')} ` : '';
  const host =
    rule.port === undefined ? authority(rule.host, 0).replace(/:0$/, '') : authority(rule.host, rule.port);
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
