/**
 * What the agent is told about the host bridge: a short section for its system prompt (agents with
 * `instructionsArgs`) and the MCP server's own `instructions`, which MCP clients pass to the model.
 * Light on purpose (no SDK imports): it runs on the start path.
 */
import type { AgentSpec } from '../agents/types.js';
import { SANDBOX_DENIED_LOG } from '../gateway/sandbox-tools.js';

export function bridgeInstructions(session: string): string {
  return [
    '## Host bridge (corral)',
    'You run in a sandbox. The MCP server "corral" runs commands on the host, in this workspace folder:',
    "- run_command runs a shell command on the host. Each new command needs the user's approval, which may take",
    '  up to a minute; a refusal is final for that command, so do not retry it unchanged. Commands the user allowed',
    '  before (list_allowed_commands) run at once. Prefer doing work inside the sandbox; use the host only for what',
    '  the sandbox cannot do.',
    `- Output goes to .corral/commands/${session}/<id>/ (files command, stdout, stderr, exit) in the workspace:`,
    '  read long output there.',
    '- A command still running after 5 s returns an id: check it with command_status, stop it with stop_command,',
    '  see all with list_commands.',
    '- notify_user shows the user a notification (e.g. when a long task is done or you need input).',
    "Network: only what corral's egress gateway allows is reachable. Each refused request is appended, with",
    `the reason, to ${SANDBOX_DENIED_LOG}; do not retry it: tell the user which host to allow`,
    '(`corral egress allow HOST`).',
  ].join('\n');
}

/**
 * The bridge section as a file the agent reads by itself. A `SKILL.md` (Vibe's user skills) needs
 * the skill's name and a description in front matter: the description is what the model sees up
 * front, so it names the bridge and says when to read the rest.
 */
export function bridgeInstructionsFile(path: string, session: string): string {
  const text = bridgeInstructions(session);
  if (!path.endsWith('SKILL.md')) return text;
  return [
    '---',
    'name: corral-host-bridge',
    'description: "Host bridge (corral): run shell commands on the host, in the workspace, through the corral MCP server (run_command); each new command needs the user\'s approval. Read this skill before using it."',
    '---',
    '',
    text,
    '',
  ].join('\n');
}

/**
 * `argv` with the bridge section added through the agent's instructions args: appended to the text
 * an earlier step already passed that way (AGENTS.md), else inserted after the agent's command.
 */
export function withBridgeInstructions(agent: AgentSpec, argv: string[], text: string): string[] {
  const template = agent.instructionsArgs;
  if (!template) return argv;
  const flag = template[0];
  const at = template.length === 2 && template[1] === '{instructions}' && flag ? argv.indexOf(flag) : -1;
  if (at >= 0 && at + 1 < argv.length) {
    const out = [...argv];
    out[at + 1] = `${out[at + 1]}\n\n${text}`;
    return out;
  }
  const n = agent.command.length;
  return [
    ...argv.slice(0, n),
    ...template.map((a) => a.replaceAll('{instructions}', text)),
    ...argv.slice(n),
  ];
}
