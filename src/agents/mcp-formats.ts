/**
 * How each agent is told about MCP servers, as data beside the agent specs: one pure renderer per
 * MCP config format, by the name an agent spec's `mcp.format` gives (the wiring into a sandbox is
 * bridge/agent-config.ts). Each renders a list: corral's host bridge first, then the user's
 * `mcp_servers` from config (remote URL servers, and stdio servers the agent starts in the
 * sandbox). A new agent with a new format adds its renderer here: agent knowledge stays in
 * src/agents/. Light on purpose (no SDK imports): it runs on every attached start.
 */

/** The name of the bridge's server in every agent's config; tool names derive from it. */
export const SERVER_NAME = 'corral';

/** The env name Codex reads the bridge's bearer token from (`bearer_token_env_var`). */
export const TOKEN_ENV = 'CORRAL_BRIDGE_TOKEN';

export interface BridgeEndpoint {
  /** Where the sandbox reaches the bridge, e.g. http://127.0.0.1:3129/mcp. */
  url: string;
  token: string;
}

/** One MCP server as every format sees it. */
export type McpServer =
  | {
      name: string;
      transport: 'http';
      /** Streamable HTTP. */
      url: string;
      /** Sent as they are (a secret's value here is the placeholder the gateway swaps). */
      headers: Record<string, string>;
    }
  | {
      name: string;
      transport: 'stdio';
      command: string;
      args: string[];
      env: Record<string, string>;
    };

export interface RenderedMcpConfig {
  /** The config text: a JSON document, or a TOML override. */
  text: string;
  /** Formats given as several args (Codex: one `-c` per server): each part fills the recipe's args. */
  parts?: string[];
  /** Env the agent needs for it (a token it reads from the environment). */
  env: Record<string, string>;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);
/** A TOML basic string (TOML accepts JSON's escapes). */
const tomlString = (s: string) => JSON.stringify(s);
const tomlTable = (r: Record<string, string>) =>
  `{${Object.entries(r)
    .map(([k, v]) => `${tomlString(k)}=${tomlString(v)}`)
    .join(',')}}`;
const tomlArray = (a: string[]) => `[${a.map(tomlString).join(',')}]`;

export function bridgeServer({ url, token }: BridgeEndpoint): McpServer {
  return { name: SERVER_NAME, transport: 'http', url, headers: { Authorization: `Bearer ${token}` } };
}

/** Servers keyed by name (the shape most agents' configs share), each entry shaped by `entry`. */
function byName(servers: McpServer[], entry: (s: McpServer) => Record<string, unknown>) {
  return Object.fromEntries(servers.map((s) => [s.name, entry(s)]));
}

const nonEmpty = (k: string, r: Record<string, string>) => (Object.keys(r).length ? { [k]: r } : {});

/** Each format's text for a list of servers (the bridge among them when the run has one). */
export const MCP_FORMATS = {
  // Claude Code's --mcp-config file.
  'claude-json': (servers: McpServer[]): RenderedMcpConfig => ({
    text: json({
      mcpServers: byName(servers, (s) =>
        s.transport === 'http'
          ? { type: 'http', url: s.url, headers: s.headers }
          : { type: 'stdio', command: s.command, args: s.args, ...nonEmpty('env', s.env) },
      ),
    }),
    env: {},
  }),
  // A Gemini CLI extension's gemini-extension.json: `httpUrl` selects streamable HTTP (`url`
  // would be SSE).
  'gemini-extension': (servers: McpServer[]): RenderedMcpConfig => ({
    text: json({
      name: SERVER_NAME,
      version: '1.0.0',
      mcpServers: byName(servers, (s) =>
        s.transport === 'http'
          ? { httpUrl: s.url, headers: s.headers }
          : { command: s.command, args: s.args, ...nonEmpty('env', s.env) },
      ),
    }),
    env: {},
  }),
  // Qwen Code's --mcp-config (a file, Gemini's server shape: `httpUrl` is streamable HTTP).
  'qwen-json': (servers: McpServer[]): RenderedMcpConfig => ({
    text: json({
      mcpServers: byName(servers, (s) =>
        s.transport === 'http'
          ? { httpUrl: s.url, headers: s.headers, trust: true }
          : { command: s.command, args: s.args, ...nonEmpty('env', s.env), trust: true },
      ),
    }),
    env: {},
  }),
  // OpenCode's config (opencode.json or OPENCODE_CONFIG_CONTENT): a remote server needs no OAuth
  // discovery (the header is the login); a local one is one argv.
  'opencode-json': (servers: McpServer[]): RenderedMcpConfig => ({
    text: JSON.stringify({
      mcp: byName(servers, (s) =>
        s.transport === 'http'
          ? { type: 'remote', url: s.url, headers: s.headers, oauth: false, enabled: true }
          : {
              type: 'local',
              command: [s.command, ...s.args],
              ...nonEmpty('environment', s.env),
              enabled: true,
            },
      ),
    }),
    env: {},
  }),
  // Copilot CLI's mcp-config.json (or --additional-mcp-config): `tools` is required.
  'copilot-json': (servers: McpServer[]): RenderedMcpConfig => ({
    text: json({
      mcpServers: byName(servers, (s) =>
        s.transport === 'http'
          ? { type: 'http', url: s.url, headers: s.headers, tools: ['*'] }
          : { type: 'local', command: s.command, args: s.args, env: s.env, tools: ['*'] },
      ),
    }),
    env: {},
  }),
  // One Codex `-c key=value` override per server (the value is TOML): the bridge's token stays in
  // the environment; other servers' headers (placeholders for secrets) go in http_headers.
  'codex-override': (servers: McpServer[]): RenderedMcpConfig => {
    const env: Record<string, string> = {};
    const parts = servers.map((s) => {
      const key = `mcp_servers.${/^[A-Za-z0-9_-]+$/.test(s.name) ? s.name : tomlString(s.name)}`;
      if (s.transport === 'stdio') {
        const envPart = Object.keys(s.env).length ? `,env=${tomlTable(s.env)}` : '';
        return `${key}={command=${tomlString(s.command)},args=${tomlArray(s.args)}${envPart}}`;
      }
      const bearer = /^Bearer (.+)$/.exec(s.headers.Authorization ?? '')?.[1];
      if (s.name === SERVER_NAME && bearer) {
        env[TOKEN_ENV] = bearer;
        return `${key}={url=${tomlString(s.url)},bearer_token_env_var=${tomlString(TOKEN_ENV)}}`;
      }
      const headers = Object.keys(s.headers).length ? `,http_headers=${tomlTable(s.headers)}` : '';
      return `${key}={url=${tomlString(s.url)}${headers}}`;
    });
    return { text: parts.join('\n'), parts, env };
  },
  // Vibe's `mcp_servers` list as JSON, for VIBE_MCP_SERVERS (merged with the user's by name).
  'vibe-json': (servers: McpServer[]): RenderedMcpConfig => ({
    text: JSON.stringify(
      servers.map((s) =>
        s.transport === 'http'
          ? {
              name: s.name,
              transport: 'streamable-http',
              url: s.url,
              auth: { type: 'static', headers: s.headers },
            }
          : { name: s.name, transport: 'stdio', command: s.command, args: s.args, env: s.env },
      ),
    ),
    env: {},
  }),
};

export type McpFormatName = keyof typeof MCP_FORMATS;
