/** What `corral run` does for a sandbox behind the egress gateway: plan its network, start the
 * workspace's gateway (and a port relay), and let go of the gateway when the run ends. */
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from '../../agents/types.js';
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import type { GatewayRunInput } from '../../gateway/prepare.js';
import type { BrokeredLogin } from '../../gateway/settings.js';
import { buildSettings } from '../../sandbox/image.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import { trace } from '../../trace.js';
import type { Workspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput } from '../types.js';
import { mcpEgress } from './mcp.js';
import { modelEgress } from './support.js';

/** The sandbox's network, as planned; behind the gateway it mounts the workspace gateway's folder. */
export async function sandboxNetwork(
  ctx: CoreContext,
  engine: ContainerEngine,
  workspace: Workspace,
  config: Config,
  opts: StartSandboxInput,
): Promise<SandboxSpec['network']> {
  const mode = opts.network ?? config.network;
  if (mode === 'open') {
    ctx.note(
      'corral: --network open: this sandbox reaches your whole network and the host, with no egress control or audit.',
    );
  }
  if (mode !== 'gateway') return { mode };
  // A malformed rule stops the run here, before any container exists.
  (await import('../../gateway/policy.js')).checkEgressRules(config.egress, opts);
  const { gatewayDirs, prepareSandboxMounts } = await import('../../gateway/folders.js');
  const dirs = gatewayDirs(engine, workspace.id);
  if (!opts.dryRun) await prepareSandboxMounts(dirs);
  return { mode, socketDir: dirs.sock, trustCa: true };
}

/**
 * The keys' placeholders the workspace's lingering gateway swaps now, reused by this run so a run
 * like the last one changes nothing there (gateway/folders.ts). Local engines only: a remote or
 * Kubernetes gateway's settings are not read back before a run.
 */
export async function lingeringPlaceholders(
  engine: ContainerEngine,
  workspace: Workspace,
  network: SandboxSpec['network'],
  opts: StartSandboxInput,
): Promise<Map<string, string> | undefined> {
  if (network.mode !== 'gateway' || opts.dryRun || engine.hostFolders) return undefined;
  const { gatewayDirs, servedPlaceholders } = await import('../../gateway/folders.js');
  return servedPlaceholders(gatewayDirs(engine, workspace.id));
}

/**
 * Start (or update) the workspace's gateway with this run's policy and keys; set up port relaying.
 * With `early`, a new gateway may still be booting: its `listening` is returned, to be awaited
 * once the sandbox has started (gateway/container.ts says why that is safe).
 */
export async function startGateway(
  ctx: CoreContext,
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  config: Config,
  opts: StartSandboxInput,
  spec: SandboxSpec,
  brokered: BrokeredLogin[] = [],
  early = false,
): Promise<{ listening?: Promise<void> | undefined }> {
  const { gatewayUser, prepareGateway } = await import('../../gateway/prepare.js');
  trace('gw: loaded');
  const gateway = await prepareGateway(engine, {
    ...gatewayRunInput(engine, agent, workspace, config, opts, spec),
    brokered,
    session: spec.session,
    build: buildSettings(config),
    progress: ctx.events.progress(),
    early,
  });
  if (spec.ports.length) {
    const { inboundDir: inboundOf } = await import('../../gateway/folders.js');
    const inboundDir = inboundOf(gateway.root, spec.name);
    await mkdir(inboundDir, { recursive: true });
    // The sandbox user (another uid on Docker-as-root) creates its sockets here.
    await chmod(inboundDir, 0o777);
    spec.portRelay = { image: gateway.image, user: gatewayUser(engine), inboundDir };
  }
  // In an object: an async function returning the promise itself would wait for it.
  return { listening: gateway.listening };
}

function gatewayRunInput(
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  config: Config,
  opts: StartSandboxInput,
  spec: SandboxSpec,
): GatewayRunInput {
  // The model endpoint is let through without an extra flag: a server on the host (corral demo,
  // --model-url http://127.0.0.1:…, a local Ollama) as a host port, any other as host:port.
  const model = opts.modelUrl ? modelEgress(opts.modelUrl, engine.remote) : {};
  // The config's remote MCP servers likewise.
  const mcp = mcpEgress(config, engine.remote);
  const allow = [...(opts.allow ?? []), ...(model.allow ? [model.allow] : []), ...mcp.allow];
  return {
    agent,
    workspaceId: workspace.id,
    config,
    flags: {
      ...(allow.length ? { allow } : {}),
      ...(opts.deny ? { deny: opts.deny } : {}),
      allowHost: [...(opts.allowHost ?? []), ...(model.hostPort ? [model.hostPort] : []), ...mcp.hostPorts],
      ...(opts.logBodies ? { logBodies: true } : {}),
    },
    credentials: spec.credentials,
  };
}

/**
 * `--dry-run`: the commands that would set up the gateway (and a port relay) before the sandbox's,
 * and what follows it. Plans the relay into `spec` as startGateway would; starts nothing.
 */
export async function gatewayDryRun(
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  config: Config,
  opts: StartSandboxInput,
  spec: SandboxSpec,
): Promise<{ before: string[]; after: string[] }> {
  const { gatewayUser, planGatewaySettings } = await import('../../gateway/prepare.js');
  const { gatewayContainerSpec, gatewayNetwork } = await import('../../gateway/container.js');
  const { caDir, FORWARDER_JS, gatewayDirs, inboundDir, RELAY_BIN } = await import(
    '../../gateway/folders.js'
  );
  const { gatewayDryRunCleanup, gatewayDryRunCommands } = await import('../../gateway/dry-run.js');
  const { plannedGatewayImage } = await import('../../images/gateway.js');
  const { inboundSocket, relayContainerSpec } = await import('../../sandbox/spec.js');
  const settings = await planGatewaySettings(
    engine,
    gatewayRunInput(engine, agent, workspace, config, opts, spec),
  );
  const image = await plannedGatewayImage();
  const user = gatewayUser(engine);
  const network = gatewayNetwork(engine);
  const dirs = gatewayDirs(engine, workspace.id);
  if (spec.ports.length) {
    spec.portRelay = { image, user, inboundDir: inboundDir(dirs.root, spec.name) };
  }
  const relay = relayContainerSpec(spec);
  // A remote engine publishes them with SSH forwards instead (sandbox/port-relay.ts), as planned here.
  const commands = engine.hostFolders?.forwardPortCommands;
  const forwards =
    relay && spec.portRelay && commands
      ? {
          inboundDir: spec.portRelay.inboundDir,
          commands: spec.ports.map((p) =>
            commands(p.hostIp, p.hostPort, inboundSocket(spec.portRelay!.inboundDir, p.containerPort)),
          ),
        }
      : undefined;
  const plan = {
    engine: engine.kind,
    container: gatewayContainerSpec(
      { image, engine: engine.kind, user, settings, ...(network ? { network } : {}) },
      dirs,
    ),
    dirs,
    settings,
    forwarderJs: FORWARDER_JS,
    ...(existsSync(RELAY_BIN) ? { relayBin: RELAY_BIN } : {}),
    caCert: join(caDir(), 'ca.crt'),
    caExists: existsSync(join(caDir(), 'ca.crt')),
    credentialEnv: (placeholder: string) => Object.keys(spec.env).find((k) => spec.env[k] === placeholder),
    ...(relay && spec.portRelay
      ? { relay: { container: relay, inboundDir: spec.portRelay.inboundDir } }
      : {}),
    ...(forwards ? { forwards } : {}),
  };
  const before = gatewayDryRunCommands(plan);
  if (!(await engine.imageExists(image)))
    before.unshift(`# the gateway image ${image} is built on the first run behind the gateway`);
  return { before, after: gatewayDryRunCleanup(plan) };
}

/**
 * A new gateway's boot, awaited once its sandbox has started. One that died meanwhile (killed, or
 * failed) is started again as the run's watcher would, and saying so; one that cannot start fails
 * the run with the error of its first start (its last log lines).
 */
export async function gatewayBooted(
  ctx: CoreContext,
  engine: ContainerEngine,
  workspace: Workspace,
  listening: Promise<void> | undefined,
): Promise<void> {
  const failed = await listening?.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!failed) return;
  const { gatewayName } = await import('../../gateway/container.js');
  const gw = await engine.inspect(gatewayName(workspace.id)).catch(() => undefined);
  if (!gw || gw.running) throw failed;
  const { reviveGateway } = await import('../../gateway/watch.js');
  const outcome = await reviveGateway(engine, workspace.id, gw.exitCode, (l) => ctx.note(l)).catch(() => {
    throw failed;
  });
  if (outcome === 'gone') throw failed;
}

/** Drop the run's lease on the gateway; the gateway stops if nothing else uses it. */
export async function releaseRunGateway(
  engine: ContainerEngine,
  workspace: Workspace,
  spec: SandboxSpec,
): Promise<void> {
  if (spec.network.mode !== 'gateway') return;
  const { releaseGateway } = await import('../../gateway/container.js');
  await releaseGateway(engine, workspace.id, spec.session, undefined, { linger: true }).catch(() => {});
  trace('gateway released');
}
