/**
 * `corral doctor`: each check says ok, warn or fail, and how to fix what is not ok. Checks are
 * plain async functions over a context, so adding one is adding a function.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AgentSpec } from '../agents/types.js';
import type { Config } from '../config/schema.js';
import { type ContainerEngine, connectEngine } from '../engine/index.js';
import { planAgentImage, resolveAgentVersion } from '../images/build.js';
import { detectHostCa } from '../images/host-ca.js';
import { buildSettings } from '../sandbox/image.js';
import { hostUser, planUser } from '../workspace/userns.js';

export type Status = 'ok' | 'warn' | 'fail' | 'info';

export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  config: Config;
  requestedEngine?: string;
  /** A named remote's engine kind (`corral remote add … --engine`). */
  remoteKind?: 'podman' | 'docker';
  agents: AgentSpec[];
}

const CONTAINERS_CONF_DIRS = ['/etc/containers/containers.conf', '/etc/containers/containers.conf.d'];

function containersConf(): string {
  return CONTAINERS_CONF_DIRS.flatMap((p) => {
    if (!existsSync(p)) return [];
    if (p.endsWith('.d')) return readdirSync(p).map((f) => readFileSync(`${p}/${f}`, 'utf8'));
    return [readFileSync(p, 'utf8')];
  }).join('\n');
}

export async function runChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  let engine: ContainerEngine;
  try {
    engine = await connectEngine(ctx.requestedEngine ?? ctx.config.engine, undefined, {
      ...(ctx.config.kubernetes ? { kubernetes: ctx.config.kubernetes } : {}),
      ...(ctx.remoteKind ? { remoteKind: ctx.remoteKind } : {}),
    });
  } catch (e) {
    out.push({
      name: 'engine',
      status: 'fail',
      detail: (e as Error).message,
      fix: (e as { hint?: string }).hint ?? 'Run ./scripts/setup.',
    });
    return out;
  }
  const info = await engine.info();
  out.push({
    name: 'engine',
    status: 'ok',
    detail: `${engine.kind} ${info.version} at ${engine.endpoint}${info.rootless ? ' (rootless)' : ''}`,
  });

  if (engine.kind === 'kubernetes') {
    const { kubernetesChecks } = await import('./kubernetes.js');
    const agent = ctx.agents[0];
    const tag = agent
      ? (await planAgentImage(agent, await resolveAgentVersion(agent), buildSettings(ctx.config))).layers.at(
          -1,
        )!.tag
      : undefined;
    out.push(...(await kubernetesChecks(engine, tag && (await engine.imageExists(tag)) ? tag : undefined)));
    return out;
  }
  const hybrid = existsSync('/sys/fs/cgroup/unified') && info.cgroupVersion === 'v1';
  if (engine.kind === 'podman' && hybrid && info.runtime !== 'runc') {
    out.push({
      name: 'runtime',
      status: 'fail',
      detail: `${info.runtime} on hybrid cgroups v1 fails to start containers`,
      fix: 'Set runtime = "runc" under [engine] in /etc/containers/containers.conf.d/50-corral.conf (./scripts/setup does).',
    });
  } else
    out.push({ name: 'runtime', status: 'ok', detail: `${info.runtime}, cgroups ${info.cgroupVersion}` });
  if (engine.kind === 'podman' && !info.rootless) {
    const conf = containersConf();
    out.push(
      /nofile=16384/.test(conf)
        ? { name: 'ulimits', status: 'ok', detail: 'nofile 16384 in containers.conf' }
        : {
            name: 'ulimits',
            status: 'warn',
            detail: 'no default_ulimits in containers.conf; a high host nofile makes containers fail here',
            fix: 'Add default_ulimits = ["nofile=16384:16384"] under [containers] (./scripts/setup does).',
          },
    );
  }
  if (engine.kind === 'podman' && !info.rootless && !engine.remote) out.push(bridgeMacCheck());
  out.push({
    name: 'engine socket',
    status: 'ok',
    detail: 'sandboxes never get it (not mounted, all capabilities dropped)',
  });

  const plan = planUser(engine, hostUser());
  out.push({
    name: 'uid mapping',
    status: 'ok',
    detail: plan.idMappings
      ? `sandbox uid 1000 is your uid ${hostUser().uid} (per-container user namespace)`
      : plan.keepId
        ? 'rootless keep-id: sandbox uid 1000 is you'
        : plan.reclaimTo
          ? 'Docker as root: the agent runs as 1000; corral grants workspace access by ACL and hands files back to root after each session'
          : `the agent runs as your uid:gid ${plan.user}`,
  });

  try {
    const ca = detectHostCa(ctx.config.host_ca);
    const n = ca ? (ca.toString().match(/BEGIN CERTIFICATE/g) ?? []).length : 0;
    out.push({
      name: 'host CA',
      status: 'ok',
      detail: n
        ? `${n} extra CA certificate(s) go into images and sandboxes`
        : ctx.config.host_ca === 'off'
          ? 'off'
          : 'none detected (not needed)',
    });
  } catch (e) {
    out.push({
      name: 'host CA',
      status: 'fail',
      detail: (e as Error).message,
      fix: 'Fix host_ca in the config.',
    });
  }

  out.push(await gatewayCheck(engine, ctx.config));
  out.push(await (await import('./isolation.js')).gvisorCheck(engine, ctx.config));
  out.push(await confinementCheck());
  const volumes = await engine.listVolumes(['io.corral.managed=true', 'io.corral.role=state']);
  for (const agent of ctx.agents) {
    const own = ctx.config.agents[agent.name];
    if (own?.image) {
      const present = await engine.imageExists(own.image);
      out.push({
        name: `${agent.name} image`,
        status: present ? 'ok' : 'warn',
        detail: own.image,
        ...(present ? {} : { fix: `corral run ${agent.name} --pull` }),
      });
    } else {
      const install = await resolveAgentVersion(agent, own?.version === 'latest' ? undefined : own?.version);
      const tag = (await planAgentImage(agent, install, buildSettings(ctx.config))).layers.at(-1)!.tag;
      const present = await engine.imageExists(tag);
      out.push({
        name: `${agent.name} image`,
        status: present ? 'ok' : 'warn',
        detail: present
          ? `${tag} (${install.package}@${install.version})`
          : `not built yet (${install.package}@${install.version})`,
        ...(present ? {} : { fix: `corral image build ${agent.name}` }),
      });
    }
    out.push(injectionCheck(agent, ctx.config));
    const homes = volumes.filter(
      (v) => v.labels['io.corral.agent'] === agent.name && v.labels['io.corral.workspace'],
    ).length;
    const keys = agent.authEnv.filter((k) => process.env[k]);
    out.push({
      name: `${agent.name} login`,
      status: 'info',
      detail: `${homes ? `homes in ${homes} workspace${homes === 1 ? '' : 's'}` : 'no home yet (made on first run)'}${keys.length ? `; host has ${keys.join(', ')} (pass with -e)` : ''}`,
    });
  }
  return out;
}

/** Whether host commands of the bridge run confined (bubblewrap), per the global `bridge:` settings. */
async function confinementCheck(): Promise<CheckResult> {
  const [{ confinementAvailable }, { bridgeSettings }] = await Promise.all([
    import('../bridge/confine.js'),
    import('../bridge/host-env.js'),
  ]);
  const [available, settings] = await Promise.all([confinementAvailable(), bridgeSettings()]);
  const name = 'host command confinement';
  if (settings.confine === false)
    return {
      name,
      status: 'warn',
      detail: 'off (bridge.confine: false): host commands see your home and network',
    };
  if (available)
    return { name, status: 'ok', detail: `bubblewrap; network ${settings.network ? 'allowed' : 'none'}` };
  return {
    name,
    status: settings.confine ? 'fail' : 'warn',
    detail: 'bubblewrap (bwrap) does not run here: host commands run unconfined',
    fix: 'apt-get install bubblewrap',
  };
}

async function gatewayCheck(engine: ContainerEngine, config: Config): Promise<CheckResult> {
  if (config.network !== 'gateway') {
    return {
      name: 'egress gateway',
      status: 'warn',
      detail: `network: ${config.network} — sandboxes ${config.network === 'open' ? 'reach everything, unfiltered' : 'have no network'}`,
      fix: 'Remove `network:` from the config to go back to the gateway (the default).',
    };
  }
  const { GATEWAY_BUNDLE, gatewayTag } = await import('../images/gateway.js');
  if (!existsSync(GATEWAY_BUNDLE)) {
    return {
      name: 'egress gateway',
      status: 'fail',
      detail: `${GATEWAY_BUNDLE} is missing`,
      fix: 'npm run build',
    };
  }
  const tag = gatewayTag(readFileSync(GATEWAY_BUNDLE));
  return (await engine.imageExists(tag))
    ? { name: 'egress gateway', status: 'ok', detail: `${tag}; preset ${config.egress.preset}` }
    : {
        name: 'egress gateway',
        status: 'info',
        detail: `image not built yet (the first run builds it); preset ${config.egress.preset}`,
      };
}

/** Which of the agent's keys stay on the host (gateway injection) and which enter the sandbox. */
function injectionCheck(agent: AgentSpec, config: Config): CheckResult {
  const injected = [...new Set(agent.injectable.map((i) => i.env))];
  const passedIn = agent.authEnv.filter((k) => !injected.includes(k));
  const behind = config.network === 'gateway';
  const parts = [
    injected.length && behind ? `injected by the gateway (never in the sandbox): ${injected.join(', ')}` : '',
    passedIn.length || !behind
      ? `passed into the sandbox when you name them: ${(behind ? passedIn : agent.authEnv).join(', ')}`
      : '',
    'a login stored in its state volume stays in the sandbox',
  ].filter(Boolean);
  return { name: `${agent.name} keys`, status: 'info', detail: parts.join('; ') };
}

export function exitCodeFor(results: CheckResult[]): number {
  if (results.some((r) => r.status === 'fail')) return 2;
  if (results.some((r) => r.status === 'warn')) return 1;
  return 0;
}

/**
 * Podman 4.3's bridge changes its MAC as containers come and go (engine/neighbour.ts, issue 14).
 * corral's gateway re-checks by itself; a uid-mapped `--network open` sandbox cannot, and loses the
 * host (and all beyond it) for up to ~70 s unless the host announces the new MAC (arp_notify).
 */
function bridgeMacCheck(): CheckResult {
  let on = false;
  try {
    on = readFileSync('/proc/sys/net/ipv4/conf/all/arp_notify', 'utf8').trim() !== '0';
  } catch {}
  return on
    ? { name: 'bridge MAC', status: 'ok', detail: 'a changed bridge MAC is announced at once (arp_notify)' }
    : {
        name: 'bridge MAC',
        status: 'info',
        detail:
          "Podman's bridge (netavark before 1.9) changes its MAC as containers come and go; a --network open sandbox then loses the host for up to ~70 s (the gateway re-checks by itself)",
        fix: 'sysctl -w net.ipv4.conf.all.arp_notify=1, kept in /etc/sysctl.d (./scripts/setup does).',
      };
}
