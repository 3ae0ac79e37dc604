/**
 * What a run behind the gateway needs before its sandbox starts: the policy (agent domains, the
 * preset, config and flags), the gateway image, and the workspace's gateway running with that
 * policy. Returns the socket folder the sandbox mounts.
 */
import type { AgentSpec } from '../agents/types.js';
import type { Config } from '../config/schema.js';
import type { ContainerEngine } from '../engine/index.js';
import type { BuildSettings } from '../images/build.js';
import { ensureGatewayImage } from '../images/gateway.js';
import type { Progress } from '../images/progress.js';
import { ensureGateway, hostAliasesFor } from './container.js';
import { buildPolicy, type EgressPolicy, type Preset, parseRule, type Rule } from './policy.js';
import { readRuntimeRules, runtimeRuleList } from './runtime-rules.js';

export interface EgressFlags {
  allow?: string[];
  deny?: string[];
  allowHost?: number[];
  preset?: Preset;
}

export function policyFor(
  agent: AgentSpec,
  config: Config,
  flags: EgressFlags = {},
  runtime: Rule[] = [],
): EgressPolicy {
  const egress = config.egress;
  const rules = [
    ...runtime,
    ...egress.allow.map((r) => parseRule(r, 'allow', 'global')),
    ...egress.deny.map((r) => parseRule(r, 'deny', 'global')),
    ...(flags.allow ?? []).map((r) => parseRule(r, 'allow', 'flag')),
    ...(flags.deny ?? []).map((r) => parseRule(r, 'deny', 'flag')),
  ];
  return buildPolicy({
    preset: flags.preset ?? egress.preset,
    agentDomains: agent.apiDomains,
    rules,
    allowHostPorts: [...egress.allow_host_ports, ...(flags.allowHost ?? [])],
    // Interception needs the install's CA trusted inside the sandbox, which comes next; until then
    // the gateway decides on host and port and tunnels TLS untouched.
    interceptAgentDomains: false,
  });
}

/** The uid:gid the gateway runs as: the user's own, so its socket and logs are the user's files. */
export function gatewayUser(engine: ContainerEngine): string {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  // Rootless Podman maps container root onto the user already.
  return engine.kind === 'podman' && engine.rootless ? '0:0' : `${uid}:${gid}`;
}

export async function prepareGateway(
  engine: ContainerEngine,
  opts: {
    agent: AgentSpec;
    workspaceId: string;
    config: Config;
    flags: EgressFlags;
    build: BuildSettings;
    progress: Progress;
  },
): Promise<{ socketDir: string; policy: EgressPolicy }> {
  const runtime = runtimeRuleList(await readRuntimeRules(opts.workspaceId));
  const policy = policyFor(opts.agent, opts.config, opts.flags, runtime);
  const image = await ensureGatewayImage(engine, opts.build, opts.progress);
  const dirs = await ensureGateway(engine, {
    image,
    engine: engine.kind,
    user: gatewayUser(engine),
    settings: {
      workspace: opts.workspaceId,
      policy,
      hostAliases: hostAliasesFor(engine.kind),
      hosts: opts.config.egress.hosts,
      intercept: false,
      idleMinutes: 30,
    },
  });
  return { socketDir: dirs.sock, policy };
}
