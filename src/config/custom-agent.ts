/** What makes an `agents.<name>` entry a valid custom agent, or a valid setting of a built-in one. */
import type { AgentConfig } from './schema.js';

/** The keys only a custom agent sets (a built-in one has them in its spec). */
export const CUSTOM_AGENT_KEYS = [
  'containerfile',
  'command',
  'yolo_args',
  'headless_args',
  'home',
  'api_hosts',
  'keys',
] as const;

/**
 * A custom agent is defined whole in one file: `command` and one of `image` / `containerfile`. A
 * built-in agent cannot be given custom keys (its spec has them); `builtIn` names every built-in.
 */
export function customAgentIssues(
  agents: Record<string, AgentConfig>,
  builtIn: (name: string) => boolean,
): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  for (const [name, a] of Object.entries(agents)) {
    if (builtIn(name)) {
      for (const key of CUSTOM_AGENT_KEYS) {
        if (a[key] !== undefined)
          issues.push({ path: [name, key], message: `only a custom agent sets ${key}; ${name} is built in` });
      }
      continue;
    }
    if (!/^[a-z][a-z0-9-]*$/.test(name)) {
      issues.push({ path: [name], message: 'a custom agent name: lowercase letters, digits and dashes' });
      continue;
    }
    if (!a.command)
      issues.push({
        path: [name, 'command'],
        message: `"${name}" is not a built-in agent, so it needs command (its argv in the sandbox) — or is it a typo? (see \`corral agents\`)`,
      });
    if (!a.image === !a.containerfile)
      issues.push({
        path: [name, 'image'],
        message: `a custom agent needs exactly one of image (an image to run) or containerfile (steps onto corral's Node image)`,
      });
    if (a.version !== undefined)
      issues.push({
        path: [name, 'version'],
        message: 'a custom agent has no version to pin: its image decides',
      });
  }
  return issues;
}
