/**
 * A planned run, started: a warm sandbox adopted when one fits, the login and bridge planned, then
 * the gateway, services and host bridge alongside the sandbox (attached, detached or headless),
 * and the gateway's lease dropped when it ends.
 */

import type { McpServer } from '../../agents/mcp-formats.js';
import type { AgentSpec } from '../../agents/types.js';
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import type { Stdio } from '../../sandbox/attach.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import { adoptWarm } from '../../sandbox/warm.js';
import { trace } from '../../trace.js';
import type { Workspace } from '../../workspace/identity.js';
import { sessionHostFor } from '../bridge-host.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput, StartSandboxResult } from '../types.js';
import { takeWarm } from '../warm-pool.js';
import { planRunLogin } from './auth.js';
import { planRunBridge, startRunBridge } from './bridge.js';
import { gatewayBooted, releaseRunGateway, startGateway } from './gateway.js';
import type { StartHooks } from './launch.js';
import { startRunServices, stopRunServices } from './services.js';
import { runAttachedWithSidecars, runDetached } from './start.js';
import { gatewayWatcher } from './support.js';

export interface PlannedRun {
  ctx: CoreContext;
  engine: ContainerEngine;
  agent: AgentSpec;
  workspace: Workspace;
  config: Config;
  opts: StartSandboxInput;
  spec: SandboxSpec;
  mcpServers: McpServer[];
  stdio: Stdio | undefined;
  /** The caller's streams; throws for a start that has none. */
  io: () => Stdio;
  hooks: StartHooks;
  exited: (exitCode: number) => StartSandboxResult;
}

export async function runPlanned(run: PlannedRun): Promise<StartSandboxResult> {
  const { ctx, engine, agent, workspace, config, opts, spec, mcpServers, stdio, io, hooks, exited } = run;
  trace('planned');
  // A warm sandbox from the daemon's pool, when one fits: the run adopts its session.
  const warm = await takeWarm(ctx, engine, spec);
  if (warm) adoptWarm(spec, warm);
  const login = await planRunLogin(ctx, engine, agent, spec, config);
  // The bridge's wiring (agent config, token) goes into the spec before the sandbox is created.
  const bridgePlan = planRunBridge(agent, spec, (line) => ctx.note(line), mcpServers);
  // Behind the gateway, the run's lease is dropped when it ends (or fails), which stops the
  // gateway if no other sandbox of the workspace still uses it.
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      await stopRunServices(engine, workspace, spec);
      await releaseRunGateway(engine, workspace, spec);
    })();
    return released;
  };
  // The gateway, the run's services and its host bridge: an attached sandbox is created (and, on
  // Podman, its runtime set up) while they come up, and starts once they are.
  // `early`: a new gateway may still be booting when this resolves; `listening` is its boot.
  const gatewayAndServices = async (early = false) => {
    let listening: Promise<void> | undefined;
    if (spec.network.mode === 'gateway') {
      ({ listening } = await startGateway(
        ctx,
        engine,
        agent,
        workspace,
        config,
        opts,
        spec,
        login?.brokered,
        early,
      ));
      trace('gateway');
    }
    return {
      services: await startRunServices(engine, workspace, config, spec, (line) => ctx.note(line)),
      listening,
    };
  };
  const bridgeFor = async ({ services, listening }: Awaited<ReturnType<typeof gatewayAndServices>>) => {
    const bridge = await startRunBridge(agent, workspace, spec, bridgePlan, {
      engine,
      ...(stdio ? { io: stdio } : {}),
      approvalTimeoutS: config.approval_timeout,
      note: (line) => ctx.note(line),
      services,
      ...(spec.detached ? { host: await sessionHostFor(ctx), env: ctx.env } : {}),
      ...(hooks.prompter ? { prompter: hooks.prompter } : {}),
    });
    trace('bridge');
    // A gateway that cannot boot fails the run with its error, and stops the sandbox (start.ts).
    await gatewayBooted(ctx, engine, workspace, listening).catch(async (e) => {
      await bridge.stop();
      throw e;
    });
    return bridge;
  };
  const sidecars = async () => bridgeFor(await gatewayAndServices());
  // An attached run keeps its workspace's gateway up while it runs (a detached run's bridge
  // process does the same): a gateway that dies is reported and restarted.
  const watcher = gatewayWatcher(ctx, engine, workspace.id, spec);
  const watchGateway = watcher.start;
  try {
    // A published port's relay is planned by the gateway's start, and the sandbox mounts its folder.
    if (spec.detached || spec.ports.length) {
      if (!spec.detached) io();
      const bridge = await sidecars();
      await watchGateway();
      if (spec.detached) {
        const id = await runDetached(ctx, engine, spec, bridge, hooks.started);
        return { kind: 'detached', exitCode: 0, name: spec.name, id, agent: agent.name };
      }
      return exited(
        await runAttachedWithSidecars(
          engine,
          spec,
          config,
          opts,
          io(),
          login,
          Promise.resolve(bridge),
          release,
        ),
      );
    }
    const attachTo = io();
    // The sandbox starts once the gateway serves this run's settings, or once a new gateway (whose
    // first settings are this run's) has started: its boot goes on alongside. The host bridge
    // comes up alongside the start too (the relay waits for a socket that is not there yet, up to
    // 5 s, when the agent connects first), so its start (~50-250 ms of loading) is off the path.
    const ready = gatewayAndServices(true);
    const bridging = ready.then(bridgeFor);
    // Awaited below (and after any failure): no rejection goes unhandled meanwhile.
    ready.catch(() => {});
    bridging.catch(() => {});
    bridging.then(watchGateway).catch(() => {});
    return exited(
      await runAttachedWithSidecars(engine, spec, config, opts, attachTo, login, bridging, release, ready),
    );
  } finally {
    watcher.stop();
    await release();
  }
}
