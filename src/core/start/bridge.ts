/**
 * The host bridge of a run behind the gateway: an MCP server on a Unix socket in the workspace
 * gateway's folder, which the sandbox's forwarder serves on 127.0.0.1:3129. Only this run's sandbox
 * has its token. Commands not allowed beforehand wait for the user: in the run's terminal (a
 * prompt) when it has one, and in `corral approvals` always. An attached run serves the bridge
 * itself; a detached run hands it to the daemon when one runs (core/bridge-host.ts), else to a
 * small host process of its own; either ends it with the sandbox.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
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
import type { SessionHost } from '../bridge-host.js';

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
  /**
   * Detached runs: who serves the bridge instead of a process of its own (the daemon: in its
   * process, or over its socket for a CLI run); a CLI run falls back to the process when it declines.
   */
  host?: { sessions: SessionHost; inProcess: boolean } | undefined;
  /** The caller's environment (what host commands get, for a run the daemon serves). */
  env?: NodeJS.ProcessEnv | undefined;
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
  if (!spec.detached) return attachedBridge(agent, workspace, spec, started);
  const { detachedBridge, hostedBridge } = await import('./detached-bridge.js');
  if (opts.host) {
    const hosted = await hostedBridge(agent, workspace, spec, started, opts.host.sessions).catch(
      (e: Error) => {
        if (opts.host?.inProcess) throw e;
        // Another data folder is another setup (a test, a second profile): no news for the user.
        if (!/another data folder/.test(e.message))
          opts.note(
            `corral: the daemon did not take this run's host bridge (${e.message}); it runs in a process of its own`,
          );
        return undefined;
      },
    );
    if (hosted) return hosted;
  }
  return detachedBridge(agent, workspace, spec, started);
}

export interface Started extends RunBridgeOptions {
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
  const [
    { displayCommand, startBridge },
    { ApprovalQueue },
    { queuedApprover },
    { TerminalPrompter },
    { privateSocket, relayBridge },
  ] = await Promise.all([
    import('../../bridge/index.js'),
    import('../../bridge/approval-queue.js'),
    import('../../bridge/ask.js'),
    import('../../bridge/terminal-prompt.js'),
    import('../../bridge/relayed.js'),
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
    ? await relayBridge(o.engine, o.socketPath, listenAt).catch(async (e) => {
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
export async function serveRemote(o: Started): Promise<() => Promise<void>> {
  return (await o.engine.hostFolders?.serveSocket(o.socketPath)) ?? (async () => {});
}
