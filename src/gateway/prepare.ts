/**
 * What a run behind the gateway needs before its sandbox starts: the policy (agent domains, the
 * preset, config and flags), the gateway image, and the workspace's gateway running with that
 * policy. Returns the socket folder the sandbox mounts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { withFileLock } from '../config/file-lock.js';
import type { Config } from '../config/schema.js';
import { type ContainerEngine, hostAlias } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { BuildSettings } from '../images/build.js';
import { ensureGatewayImage } from '../images/gateway.js';
import { detectHostCa } from '../images/host-ca.js';
import type { Progress } from '../images/progress.js';
import { trace } from '../trace.js';
import { ensureGateway, gatewayNetwork, takeLease } from './container.js';
import type { CredentialInput } from './credentials.js';
import { caDir } from './folders.js';
import { withHostAddresses, withoutLinkLocal } from './host-addresses.js';
import { buildPolicy, type EgressPolicy, type Preset, parseRule, type Rule } from './policy.js';
import { readRuntimeRules, runtimeRuleList } from './runtime-rules.js';
import type { BrokeredLogin, GatewaySettings } from './settings.js';

export interface EgressFlags {
  allow?: string[];
  deny?: string[];
  allowHost?: number[];
  preset?: Preset;
  /** --log-bodies: log request and response bodies (redacted) for this run. */
  logBodies?: boolean;
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
    // TLS to the agent's own API is terminated at the gateway (the sandbox trusts the install's
    // CA), so keys can be injected there; everything else is tunnelled untouched.
    interceptAgentDomains: true,
  });
}

/** The uid:gid the gateway runs as: the user's own, so its socket and logs are the user's files. */
export function gatewayUser(engine: ContainerEngine): string {
  // A remote engine's copies of the folders belong to the user corral logs in as there.
  const uid = engine.filesOwner?.uid ?? process.getuid?.() ?? 0;
  const gid = engine.filesOwner?.gid ?? process.getgid?.() ?? 0;
  // Rootless Podman maps container root onto the user already.
  return engine.kind === 'podman' && engine.rootless ? '0:0' : `${uid}:${gid}`;
}

/** Extra CAs the gateway trusts upstream: the host's (TLS-intercepting proxies) and egress.upstream_ca. */
async function upstreamCas(config: Config): Promise<string[]> {
  const out: string[] = [];
  const host = detectHostCa(config.host_ca);
  if (host) out.push(host.toString());
  if (config.egress.upstream_ca) {
    const path = config.egress.upstream_ca;
    out.push(
      await readFile(path, 'utf8').catch((e: Error) => {
        throw new CorralError(
          'CONFIG_INVALID',
          `Cannot read egress.upstream_ca ${path}: ${e.message}`,
          'Point it at a PEM file of CA certificates, or remove it.',
        );
      }),
    );
  }
  return out;
}

/** The install's CA, made on first use; only its certificate goes anywhere near a sandbox. */
async function ensureCa(): Promise<void> {
  if (existsSync(join(caDir(), 'ca.crt'))) return;
  const { loadOrCreateCa } = await import('./ca.js');
  // First runs started together would each write a key and a certificate: one makes it.
  await mkdir(caDir(), { recursive: true, mode: 0o700 });
  await withFileLock(caDir(), { lockfilePath: `${caDir()}.lock` }, () => loadOrCreateCa(caDir()));
}

export interface GatewayRunInput {
  agent: AgentSpec;
  workspaceId: string;
  config: Config;
  flags: EgressFlags;
  credentials: CredentialInput[];
  /** Brokered OAuth logins the gateway injects and keeps fresh. */
  brokered?: BrokeredLogin[];
}

/** The settings a run hands its workspace's gateway; reads config and rule files, starts nothing. */
export async function planGatewaySettings(
  engine: ContainerEngine,
  opts: GatewayRunInput,
): Promise<GatewaySettings> {
  const runtime = runtimeRuleList(await readRuntimeRules(opts.workspaceId));
  const policy = {
    ...policyFor(opts.agent, opts.config, opts.flags, runtime),
    // The machine the gateway runs on: this one, or the remote engine's (never both: on a remote
    // engine this machine is just another address on the network, refused unless a rule names it).
    hostRefused:
      engine.remote && engine.hostAddresses
        ? withoutLinkLocal(await engine.hostAddresses())
        : withHostAddresses(),
  };
  const upstreamCa = await upstreamCas(opts.config);
  return {
    workspace: opts.workspaceId,
    policy,
    hostAliases: [hostAlias(engine.kind)],
    ...(engine.remote ? { hostMachine: engine.remote } : {}),
    hosts: opts.config.egress.hosts,
    intercept: true,
    idleMinutes: 30,
    lingerSeconds: opts.config.egress.gateway_linger ?? 120,
    credentials: opts.credentials,
    brokered: opts.brokered ?? [],
    refresh: {
      checkSeconds: opts.config.auth.refresh_check_seconds,
      aheadSeconds: opts.config.auth.refresh_ahead_seconds,
    },
    upstreamCa,
    logBodies: opts.flags.logBodies ?? opts.config.egress.log_bodies ?? false,
  };
}

export async function prepareGateway(
  engine: ContainerEngine,
  opts: GatewayRunInput & {
    /** The run's session id: its lease keeps the gateway up until its sandbox runs. */
    session: string;
    build: BuildSettings;
    progress: Progress;
    /** A new gateway may still be booting when this returns (GatewayOptions.early). */
    early?: boolean;
  },
): Promise<{ socketDir: string; image: string; root: string; listening?: Promise<void> }> {
  const settings = await planGatewaySettings(engine, opts);
  trace('gw: settings');
  await takeLease(engine, opts.workspaceId, opts.session);
  await ensureCa();
  trace('gw: lease, ca');
  const image = await ensureGatewayImage(engine, opts.build, opts.progress);
  trace('gw: image');
  const dirs = await ensureGateway(engine, {
    image,
    engine: engine.kind,
    user: gatewayUser(engine),
    settings,
    session: opts.session,
    ...(gatewayNetwork(engine) ? { network: gatewayNetwork(engine) } : {}),
    ...(opts.early ? { early: true } : {}),
  });
  return {
    socketDir: dirs.sock,
    image,
    root: dirs.root,
    ...(dirs.listening ? { listening: dirs.listening } : {}),
  };
}
