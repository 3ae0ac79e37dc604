/**
 * Mapping a script's `run: <command>` onto whichever shell tool the agent offers: each CLI names
 * and shapes its shell tool differently.
 */
import { finalText, type Reply, type Script, turnFor } from './script.js';

export interface OfferedTool {
  name: string;
  /** Responses API tool type (function, local_shell, custom...). */
  type?: string;
}

type ShellShape = (cmd: string) => Record<string, unknown>;

const SHELL_TOOLS: [RegExp, ShellShape][] = [
  [/^Bash$/, (cmd) => ({ command: cmd, description: 'Run the scripted command' })], // Claude Code
  [/^shell$/, (cmd) => ({ command: ['bash', '-lc', cmd] })], // Codex (function shell)
  [/^shell_command$/, (cmd) => ({ command: cmd })], // Codex
  [/^exec_command$/, (cmd) => ({ cmd })], // Codex unified exec
  [/^run_shell_command$/, (cmd) => ({ command: cmd })], // Gemini CLI
  [/^bash$/, (cmd) => ({ command: cmd })], // OpenCode, pi, Vibe
  [/bash|shell|exec|command|terminal/i, (cmd) => ({ command: cmd })], // anything else shell-like
];

export function shellCall(
  tools: OfferedTool[],
  cmd: string,
): { name: string; input: Record<string, unknown> } | undefined {
  for (const [pattern, shape] of SHELL_TOOLS) {
    const t = tools.find((x) => pattern.test(x.name));
    if (t) return { name: t.name, input: shape(cmd) };
  }
  return undefined;
}

/** Decide the reply for a request offering `tools` that already carries `toolResults` results. */
export function decide(script: Script, tools: OfferedTool[], toolResults: number): Reply {
  if (tools.length === 0) return { kind: 'text', text: script.side_text, step: null };
  const turn = turnFor(script, toolResults);
  if (!turn) return { kind: 'text', text: finalText(script), step: toolResults };
  if ('text' in turn) return { kind: 'text', text: turn.text, step: toolResults };
  if ('tool' in turn)
    return {
      kind: 'tool',
      name: turn.tool,
      input: turn.input,
      ...(turn.say ? { say: turn.say } : {}),
      step: toolResults,
    };
  const call = shellCall(tools, turn.run);
  if (!call) {
    return {
      kind: 'text',
      text: `The script wants to run \`${turn.run}\`, but this agent offers no shell tool (tools: ${tools.map((t) => t.name).join(', ')}).`,
      step: toolResults,
    };
  }
  return { kind: 'tool', ...call, ...(turn.say ? { say: turn.say } : {}), step: toolResults };
}

let counter = 0;
export const callId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}`;
