/**
 * A detached run's host bridge, which outlives the `corral run` that starts it: served by the daemon
 * when one runs and takes it (core/bridge-host.ts), else by a small host process of its own
 * (bridge/daemon-spawn.ts). Either gets the token's sha256, never the token.
 */
import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import type { AgentSpec } from '../../agents/types.js';
import type { Stdio } from '../../sandbox/attach.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { Workspace } from '../../workspace/identity.js';
import type { SessionHost } from '../bridge-host.js';
import { type RunBridge, type Started, serveRemote } from './bridge.js';

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** The tty the user started the run from, for a bell later (no tty: no bell). */
function startingTty(io: Stdio | undefined): string | undefined {
  if (!io || !(io.stderr as { isTTY?: boolean }).isTTY) return undefined;
  try {
    const path = readlinkSync('/proc/self/fd/2');
    return /^\/dev\/(pts\/\d+|tty\w*)$/.test(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** What either server of a detached run's bridge is told about the session. */
function sessionOptions(agent: AgentSpec, workspace: Workspace, spec: SandboxSpec, o: Started) {
  const tty = startingTty(o.io);
  return {
    workspace: workspace.path,
    session: spec.session,
    tokenSha256: sha256(o.token),
    socketPath: o.socketPath,
    agent: agent.name,
    container: spec.name,
    engine: o.engine.endpoint,
    ...(o.engine.reconnect ? { reconnect: o.engine.reconnect } : {}),
    // Kubernetes: the session's host serves it in the gateway pod over the API, for its whole life.
    ...(o.engine.relaySocket ? { relayed: true } : {}),
    approvalTimeoutMs: o.timeoutMs,
    ...(tty ? { notifyTty: tty } : {}),
  };
}

/** A remote engine's forward of the socket, held by this run; none where the session relays it. */
const unlessRelayed = async (o: Started): Promise<() => Promise<void>> =>
  o.engine.relaySocket ? async () => {} : serveRemote(o);

/** A detached run's bridge served by the daemon: listening once this resolves. */
export async function hostedBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  o: Started,
  host: SessionHost,
): Promise<RunBridge> {
  const [{ bridgeSettings, hostCommandEnv }, { currentDataDir }] = await Promise.all([
    import('../../bridge/host-env.js'),
    import('../bridge-host.js'),
  ]);
  const env = o.env ?? {};
  const hostCommands = await bridgeSettings(env);
  const hostEnv = Object.fromEntries(
    Object.entries(hostCommandEnv(hostCommands.env, env)).filter(
      (kv): kv is [string, string] => typeof kv[1] === 'string',
    ),
  );
  const session = spec.session;
  await host.open({
    ...sessionOptions(agent, workspace, spec, o),
    dataDir: currentDataDir(),
    hostCommands,
    hostEnv,
  });
  const unserve = await unlessRelayed(o);
  return {
    started: (id) => host.watch(session, id),
    stop: async () => {
      await unserve();
      await host.abort(session).catch(() => {});
    },
  };
}

export async function detachedBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  o: Started,
): Promise<RunBridge> {
  const { spawnBridgeDaemon } = await import('../../bridge/daemon-spawn.js');
  const daemon = await spawnBridgeDaemon(sessionOptions(agent, workspace, spec, o));
  const unserve = await unlessRelayed(o);
  return {
    ready: daemon.ready,
    started: (id) => daemon.watch(id),
    stop: async () => {
      await unserve();
      daemon.abort();
    },
  };
}
