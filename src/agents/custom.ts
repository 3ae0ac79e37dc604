/**
 * A custom agent from config (`agents.<name>` with a `command`): the same spec shape as a built-in
 * one, so it runs through the same code. The config layer validates the input (config/schema.ts);
 * this only maps it. Its image comes from config (`image`, or `containerfile` steps onto corral's
 * Node image), never from an install recipe.
 */
import type { AgentSpec } from './types.js';
import { defineAgent } from './types.js';

type Header = 'authorization' | 'x-api-key' | 'x-goog-api-key';

/** The config keys of a custom agent (snake_case, as in the config file). */
export interface CustomAgentInput {
  image?: string | undefined;
  containerfile?: string | undefined;
  command?: string[] | undefined;
  yolo_args?: string[] | undefined;
  headless_args?: string[] | undefined;
  home?: string[] | undefined;
  api_hosts?: string[] | undefined;
  keys?: (string | { env: string; host: string; header: Header })[] | undefined;
}

export function isCustomAgentConfig(c: CustomAgentInput | undefined): boolean {
  return Boolean(c?.command);
}

export function customAgent(name: string, c: CustomAgentInput): AgentSpec {
  const command = c.command ?? [];
  const keys = c.keys ?? [];
  return defineAgent({
    name,
    displayName: name,
    provider: 'custom (from config)',
    aliases: [],
    // Never built from this: a custom agent's image is `image` or `containerfile` (see unavailable).
    install: { kind: 'npm', package: name, version: '0.0.0' },
    command,
    versionCommand: command,
    yoloArgs: c.yolo_args ?? [],
    statePaths: c.home?.length ? c.home : [`.config/${name}`],
    authEnv: keys.map((k) => (typeof k === 'string' ? k : k.env)),
    apiDomains: c.api_hosts ?? [],
    instructionsFile: 'AGENTS.md',
    injectable: keys.flatMap((k) =>
      typeof k === 'string' ? [] : [{ env: k.env, host: k.host, header: k.header }],
    ),
    ...(c.headless_args ? { headlessArgs: c.headless_args } : {}),
    unavailable: `${name} is a custom agent: its image is agents.${name}.image or agents.${name}.containerfile, not a corral build`,
    notes: ['a custom agent from config'],
  });
}
