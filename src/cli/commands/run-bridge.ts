/**
 * The host bridge for an attached run behind the gateway: an MCP server on a Unix socket in the
 * workspace gateway's folder, which the sandbox's forwarder serves on 127.0.0.1:3129. Only this
 * run's sandbox has its token. Commands not allowed beforehand are refused (and the user told how
 * to allow them); asking interactively comes with `corral approvals`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AgentSpec } from '../../agents/types.js';
import { staleMcpCleanup, wireMcp } from '../../bridge/agent-config.js';
import { SANDBOX_HOME } from '../../images/recipes.js';
import type { Workspace } from '../../sandbox/identity.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { ServiceController } from '../../services/types.js';

export const BRIDGE_PORT = 3129;
export const BRIDGE_URL = `http://127.0.0.1:${BRIDGE_PORT}/mcp`;

/** Start the bridge and wire it into the spec; returns what stops it. */
export async function startRunBridge(
  agent: AgentSpec,
  workspace: Workspace,
  spec: SandboxSpec,
  note: (line: string) => void,
  services?: ServiceController,
): Promise<() => Promise<void>> {
  if (!agent.mcp) return async () => {};
  if (spec.network.mode !== 'gateway' || spec.argv[0] !== agent.command[0]) {
    spec.init = [...spec.init, ...staleMcpCleanup(agent)];
    return async () => {};
  }
  const token = randomBytes(24).toString('hex');
  const wiring = wireMcp(agent, { url: BRIDGE_URL, token }, spec.files, SANDBOX_HOME);
  if (!wiring) {
    note(`corral: no host bridge for this run: ${agent.mcp.file} already defines an MCP server named corral`);
    return async () => {};
  }
  const { displayCommand, startBridge } = await import('../../bridge/index.js');
  const socketName = `bridge-${spec.session}.sock`;
  const bridge = await startBridge({
    workspace: workspace.path,
    session: spec.session,
    token,
    socketPath: join(spec.network.socketDir, socketName),
    approve: async (req) => {
      const cmd = displayCommand(req.command);
      const what =
        req.kind === 'service'
          ? `a service the agent asked for: ${displayCommand(req.name)} from ${cmd.slice('service:'.length)}`
          : `a host command the agent asked for: ${cmd}`;
      note(`corral: refused ${what}\n  to allow it: corral allowed add '${cmd}'`);
      return 'deny';
    },
    ...(services ? { services } : {}),
  });
  spec.bridge = { socketName, port: BRIDGE_PORT };
  spec.files = wiring.files;
  spec.env = { ...spec.env, ...wiring.env };
  spec.argv = [...agent.command, ...wiring.args, ...spec.argv.slice(agent.command.length)];
  return () => bridge.close();
}
