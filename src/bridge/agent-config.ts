/**
 * How each agent is told about the host bridge: the wiring that turns an agent spec's `mcp` recipe
 * (its format's renderer lives with the agents, in agents/mcp-formats.ts) into files, env and args
 * for its sandbox.
 *
 * Every agent gets the bridge without corral touching a file the agent (or its user) owns: Claude
 * Code and Copilot CLI load an extra config file corral writes under ~/.corral, Gemini CLI reads
 * corral's file as its lowest-precedence "system defaults", Codex takes a `-c` override, OpenCode
 * and Vibe read config from the environment, and each of them merges it with the user's own MCP
 * servers. Should a recipe ever name a file an endpoint also writes, the entry is merged into it
 * (JSON objects merged, TOML tables appended), never written over it.
 *
 * Light on purpose (no SDK imports): it runs on every start of an attached run.
 */
import {
  type BridgeEndpoint,
  bridgeServer,
  MCP_FORMATS,
  type McpServer,
  type RenderedMcpConfig,
  SERVER_NAME,
  TOKEN_ENV,
} from '../agents/mcp-formats.js';
import type { AgentSpec, McpFormat } from '../agents/types.js';

export { type BridgeEndpoint, type McpServer, type RenderedMcpConfig, SERVER_NAME, TOKEN_ENV };

/**
 * Each format's text for the bridge (when the run has one) and the config's MCP servers
 * (renderers: agents/mcp-formats.ts). A config server never takes the bridge's name (config
 * validation refuses it).
 */
export function renderMcpConfig(
  format: McpFormat,
  endpoint: BridgeEndpoint | undefined,
  extra: McpServer[] = [],
): RenderedMcpConfig {
  return MCP_FORMATS[format]([...(endpoint ? [bridgeServer(endpoint)] : []), ...extra]);
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` merged into `base`, objects recursively; anything else in `over` wins. */
export function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k]!, v) : v;
  return out;
}

/**
 * Merge an MCP entry into a config file another part of corral already writes (an endpoint's
 * settings). JSON: objects merged. TOML: the fragment appended, unless the file already defines a
 * table the fragment would define again (TOML forbids that): then the file's own wins and this
 * returns undefined.
 */
export function mergeConfigText(existing: string, addition: string, path: string): string | undefined {
  if (path.endsWith('.toml')) {
    const headers = (s: string) =>
      [...s.matchAll(/^\s*\[([^[\]]+)\]\s*(?:#.*)?$/gm)].map((m) => m[1]!.replace(/\s+/g, ''));
    const defined = new Set(headers(existing));
    if (headers(addition).some((h) => defined.has(h))) return undefined;
    return `${existing.replace(/\n*$/, '\n')}\n${addition.replace(/\n*$/, '\n')}`;
  }
  return json(deepMerge(JSON.parse(existing) as Json, JSON.parse(addition) as Json));
}

export interface McpWiring {
  files: Record<string, string>;
  env: Record<string, string>;
  /** Args to insert right after the agent's command. */
  args: string[];
}

/**
 * The files, env and args that give `agent` the bridge at `endpoint`. `files` are the sandbox's
 * home files so far (an endpoint's config among them): the result's files replace them. `home` is
 * the sandbox's $HOME. `{file}` in the recipe is the config file's absolute path, `{config}` the
 * rendered config text.
 */
export function wireMcp(
  agent: AgentSpec,
  endpoint: BridgeEndpoint | undefined,
  files: Record<string, string>,
  home: string,
  extra: McpServer[] = [],
): McpWiring | undefined {
  const mcp = agent.mcp;
  if (!mcp) return undefined;
  const rendered = renderMcpConfig(mcp.format, endpoint, extra);
  const out = { ...files };
  if (mcp.file) {
    const existing = out[mcp.file];
    if (existing === undefined) out[mcp.file] = rendered.text;
    else {
      const merged = mergeConfigText(existing, rendered.text, mcp.file);
      if (merged === undefined) return undefined;
      out[mcp.file] = merged;
    }
  }
  const sub = (s: string, config = rendered.text) =>
    s.replace(/\{(file|config)\}/g, (_, key: string) =>
      key === 'file' ? `${home}/${mcp.file ?? ''}` : config,
    );
  // A format given as several args (Codex's one `-c` per server) repeats the recipe's args per part.
  const args = rendered.parts
    ? rendered.parts.flatMap((part) => mcp.args.map((a) => sub(a, part)))
    : mcp.args.map((a) => sub(a));
  return {
    files: out,
    env: { ...Object.fromEntries(Object.entries(mcp.env).map(([k, v]) => [k, sub(v)])), ...rendered.env },
    args,
  };
}

/**
 * Shell lines for a run without the bridge that remove a config file an earlier bridge run left
 * in the agent's home (a persistent volume), where the agent would find it by itself and try to
 * reach a bridge that is not there (Gemini's extension). Files the agent loads only when told to
 * (by args or env) are harmless and stay.
 */
export function staleMcpCleanup(agent: AgentSpec): string[] {
  const mcp = agent.mcp;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // Bridge instructions the agent reads by itself would tell it about a bridge that is not there.
  const file = mcp?.instructionsFile;
  // A skill is a folder of its own (Vibe): it goes with its SKILL.md.
  const skillDir = file?.endsWith('/SKILL.md') ? file.slice(0, -'/SKILL.md'.length) : undefined;
  const instructions = file
    ? [`rm -f "$HOME"/${q(file)}`, ...(skillDir ? [`rmdir "$HOME"/${q(skillDir)} 2>/dev/null || true`] : [])]
    : [];
  if (!mcp?.file) return instructions;
  const referenced = [...mcp.args, ...Object.values(mcp.env)].some((s) => s.includes('{file}'));
  if (referenced) return instructions;
  const dir = mcp.file.includes('/') ? mcp.file.slice(0, mcp.file.lastIndexOf('/')) : '';
  return [
    ...instructions,
    `rm -f "$HOME"/${q(mcp.file)}`,
    ...(dir ? [`rmdir "$HOME"/${q(dir)} 2>/dev/null || true`] : []),
  ];
}
