/**
 * The host bridge of a run behind the gateway: an MCP server on a Unix socket in the workspace
 * gateway's folder, which the sandbox's forwarder serves on 127.0.0.1:3129. Only this run's sandbox
 * has its token. Commands not allowed beforehand wait for the user: in the run's terminal (a
 * prompt) when it has one, and in `corral approvals` always. An attached run serves the bridge
 * itself; a detached run hands it to a small host process that ends with the sandbox.
 */
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { McpServer } from '../../agents/mcp-formats.js';
import type { AgentSpec } from '../../agents/types.js';
import { staleMcpCleanup, wireMcp } from '../../bridge/agent-config.js';
import type { ApprovalPrompter } from '../../bridge/ask.js';
import {
  bridgeInstructions,
  bridgeInstructionsFile,
  withBridgeInstructions,
} from '../../bridge/instructions.js';
import type { ContainerEngine } from '../../engine/index.js';
import { SANDBOX_HOME } from '../../images/recipes.js';
import type { AttachControl, Stdio } from '../../sandbox/attach.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { ServiceController } from '../../services/types.js';
import type { Workspace } from '../../workspace/identity.js';

export const BRIDGE_PORT = 3129;
export const BRIDGE_URL = `http://127.0.0.1:${BRIDGE_PORT}/mcp`;
export const DEFAULT_APPROVAL_TIMEOUT_S = 60;

export interface RunBridge {
  /** Attached TTY runs: takes the terminal control, so approvals can be asked there. */
  control?: (c: AttachControl) => void;
  /** Detached runs: resolves when the bridge listens (start the sandbox only then). */
  ready?: Promise<void>;
  /** Detached runs: the sandbox started; its bridge process takes over from here. */
  started(containerId: string): Promise<void>;
  /** Attached: the run ended. Detached: the start failed. */
  stop(): Promise<void>;
}

const NONE: RunBridge = { started: async () => {}, stop: async () => {} };

export interface RunBridgeOptions {
  engine: ContainerEngine;
  /** The run's terminal (attached runs; approvals are asked there when it is one). */
  io?: Stdio | undefined;
  approvalTimeoutS?: number | undefined;
  note: (line: string) => void;
  /** Services the agent may start (attached runs; the detached bridge process has none yet). */
  services?: ServiceController | undefined;
  /** A detached run's bridge is served by this process until the sandbox exits (the daemon). */
  inline?: boolean | undefined;
  /** Asks about host commands where there is no terminal to ask in (an editor over ACP). */
  prompter?: ApprovalPrompter | undefined;
}

/** Where a run's bridge will listen and the token its agent presents; planned before the sandbox. */
export interface BridgePlan {
  token: string;
  socketPath: string;
}

/**
 * Wire the bridge into the spec (agent config, token, instructions): done before the sandbox is
 * created, which may be before the bridge itself starts. Undefined when this run has no bridge.
 */
export function planRunBridge(
  agent: AgentSpec,
  spec: SandboxSpec,
  note: (line: string) => void,
  servers: McpServer[] = [],
): BridgePlan | undefined {
  if (!agent.mcp) {
    if (servers.length && spec.argv[0] === agent.command[0])
      note(`corral: ${agent.displayName} has no MCP client corral can configure: mcp_servers left out`);
    return undefined;
  }
  if (spec.network.mode !== 'gateway' || spec.argv[0] !== agent.command[0]) {
    // The config's servers still reach the agent itself (not a shell), without the bridge.
    const wiring =
      servers.length && spec.argv[0] === agent.command[0]
        ? wireMcp(agent, undefined, spec.files, SANDBOX_HOME, servers)
        : undefined;
    if (!wiring) {
      spec.init = [...spec.init, ...staleMcpCleanup(agent)];
      return undefined;
    }
    spec.files = wiring.files;
    spec.env = { ...spec.env, ...wiring.env };
    spec.argv = [...agent.command, ...wiring.args, ...spec.argv.slice(agent.command.length)];
    return undefined;
  }
  const token = randomBytes(24).toString('hex');
  const wiring = wireMcp(agent, { url: BRIDGE_URL, token }, spec.files, SANDBOX_HOME, servers);
  if (!wiring) {
    note(`corral: no host bridge for this run: ${agent.mcp.file} already defines an MCP server named corral`);
    return undefined;
  }
  const socketName = `bridge-${spec.session}.sock`;
  spec.bridge = { socketName, port: BRIDGE_PORT };
  spec.files = {
    ...wiring.files,
    ...(agent.mcp.instructionsFile
      ? { [agent.mcp.instructionsFile]: bridgeInstructionsFile(agent.mcp.instructionsFile, spec.session) }
      : {}),
  };
  spec.env = { ...spec.env, ...wiring.env };
  spec.argv = withBridgeInstructions(
    agent,
    [...agent.command, ...wiring.args, ...spec.argv.slice(agent.command.length)],
    bridgeInstructions(spec.session),
  );
  return { token, socketPath: join(spec.network.socketDir, socketName) };
}

/** Start the bridge planned by planRunBridge (none without a plan). */
export async function startRunBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  plan: BridgePlan | undefined,
  opts: RunBridgeOptions,
): Promise<RunBridge> {
  if (!plan) return NONE;
  const timeoutMs = (opts.approvalTimeoutS ?? DEFAULT_APPROVAL_TIMEOUT_S) * 1000;
  const started = { ...opts, ...plan, timeoutMs };
  return spec.detached && !opts.inline
    ? detachedBridge(agent, workspace, spec, started)
    : attachedBridge(agent, workspace, spec, started);
}

interface Started extends RunBridgeOptions {
  token: string;
  socketPath: string;
  timeoutMs: number;
}

async function attachedBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  o: Started,
): Promise<RunBridge> {
  const [{ displayCommand, startBridge }, { ApprovalQueue }, { queuedApprover }, { TerminalPrompter }] =
    await Promise.all([
      import('../../bridge/index.js'),
      import('../../bridge/approval-queue.js'),
      import('../../bridge/ask.js'),
      import('../../bridge/terminal-prompt.js'),
    ]);
  const { summarizeApproval } = await import('../../bridge/prompt.js');
  // The terminal is there to ask in only when the user types into the agent's TTY.
  const io = o.io;
  const interactive = spec.tty && Boolean(io?.stdin.isTTY);
  let prompter: ApprovalPrompter | undefined = o.prompter;
  const approve = queuedApprover({
    queue: new ApprovalQueue(),
    timeoutMs: o.timeoutMs,
    get prompter() {
      return prompter;
    },
    onPending: (p) => {
      if (!prompter)
        o.note(
          `corral: ${agent.name} asks to ${p.kind === 'command' ? 'run on the host' : p.kind}: ${summarizeApproval(p)}\n  answer with: corral approvals allow ${p.id}   (or always, deny)`,
        );
    },
  });
  // Relayed by the engine (Kubernetes): the bridge listens where no container sees it, and the
  // engine serves it at the shared path over its own streams.
  const listenAt = o.engine.relaySocket ? privateSocket(o.socketPath) : o.socketPath;
  const bridge = await startBridge({
    workspace: workspace.path,
    session: spec.session,
    token: o.token,
    socketPath: listenAt,
    approvalTimeoutMs: o.timeoutMs,
    approve: async (req) => {
      const answer = await approve(req);
      if (answer === 'deny' && req.kind === 'command') {
        const cmd = displayCommand(req.command);
        o.note(
          `corral: refused a host command the agent asked for: ${cmd}\n  to allow it: corral allowed add '${cmd}'`,
        );
      }
      return answer;
    },
    ...(o.services ? { services: o.services } : {}),
  });
  const unserve = o.engine.relaySocket
    ? await o.engine.relaySocket(o.socketPath, listenAt).catch(async (e) => {
        await bridge.close();
        throw e;
      })
    : await serveRemote(o);
  return {
    ...(interactive && io
      ? {
          control: (c: AttachControl) => {
            prompter = new TerminalPrompter({ stdin: io.stdin, stderr: io.stderr }, c, agent.name);
          },
        }
      : {}),
    // Served in this process for a detached sandbox: it goes when the sandbox does.
    started: async (id: string) => {
      if (!spec.detached) return;
      void o.engine
        .wait(id)
        .catch(() => undefined)
        .finally(() => bridge.close());
    },
    stop: async () => {
      await unserve();
      await bridge.close();
    },
  };
}

/**
 * A remote engine's sandbox reaches the bridge on this machine through an SSH reverse forward of
 * its socket into the copy of the gateway folder there (a unix socket, never a port).
 */
async function serveRemote(o: Started): Promise<() => Promise<void>> {
  return (await o.engine.hostFolders?.serveSocket(o.socketPath)) ?? (async () => {});
}

/** Beside the gateway's folders, not in them: the gateway root is mounted into no container. */
function privateSocket(shared: string): string {
  return join(dirname(dirname(shared)), basename(shared));
}

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

async function detachedBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  o: Started,
): Promise<RunBridge> {
  const { spawnBridgeDaemon } = await import('../../bridge/daemon-spawn.js');
  const tty = startingTty(o.io);
  const daemon = await spawnBridgeDaemon({
    workspace: workspace.path,
    session: spec.session,
    token: o.token,
    socketPath: o.socketPath,
    agent: agent.name,
    container: spec.name,
    engine: o.engine.endpoint,
    approvalTimeoutMs: o.timeoutMs,
    ...(tty ? { notifyTty: tty } : {}),
  });
  // A detached bridge process serves the shared path itself (Kubernetes: a node folder, so only a
  // cluster on this machine; relaying it over exec from that process is not done yet).
  const unserve = await serveRemote(o);
  return {
    ready: daemon.ready,
    started: (id) => daemon.watch(id),
    stop: async () => {
      await unserve();
      daemon.abort();
    },
  };
}
