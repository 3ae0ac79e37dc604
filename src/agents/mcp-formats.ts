/**
 * How each agent is told about corral's host bridge, as data beside the agent specs: one pure
 * renderer per MCP config format, by the name an agent spec's `mcp.format` gives (the wiring into a
 * sandbox is bridge/agent-config.ts). A new agent with a new format adds its renderer here: agent
 * knowledge stays in src/agents/. Light on purpose (no SDK imports): it runs on every attached start.
 */

/** The name of the bridge's server in every agent's config; tool names derive from it. */
export const SERVER_NAME = 'corral';

/** The env name Codex reads the bearer token from (`bearer_token_env_var`). */
export const TOKEN_ENV = 'CORRAL_BRIDGE_TOKEN';

export interface BridgeEndpoint {
  /** Where the sandbox reaches the bridge, e.g. http://127.0.0.1:3129/mcp. */
  url: string;
  token: string;
}

export interface RenderedMcpConfig {
  /** The config text: a JSON document, or a TOML fragment / override. */
  text: string;
  /** Env the agent needs for it (a token it reads from the environment). */
  env: Record<string, string>;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const json = (v: unknown) => JSON.stringify(v, null, 2);
/** A TOML basic string (TOML accepts JSON's escapes). */
const tomlString = (s: string) => JSON.stringify(s);

/** Each format's text for one streamable-HTTP server with a bearer token. */
export const MCP_FORMATS = {
  // Claude Code's --mcp-config file.
  'claude-json': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: json({ mcpServers: { [SERVER_NAME]: { type: 'http', url, headers: bearer(token) } } }),
    env: {},
  }),
  // A Gemini CLI extension's gemini-extension.json: `httpUrl` selects streamable HTTP (`url`
  // would be SSE).
  'gemini-extension': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: json({
      name: SERVER_NAME,
      version: '1.0.0',
      mcpServers: { [SERVER_NAME]: { httpUrl: url, headers: bearer(token) } },
    }),
    env: {},
  }),
  // Qwen Code's --mcp-config (a file, Gemini's server shape: `httpUrl` is streamable HTTP).
  'qwen-json': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: json({ mcpServers: { [SERVER_NAME]: { httpUrl: url, headers: bearer(token), trust: true } } }),
    env: {},
  }),
  // OpenCode's config (opencode.json or OPENCODE_CONFIG_CONTENT): a remote server; no OAuth
  // discovery, the header is the login.
  'opencode-json': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: JSON.stringify({
      mcp: {
        [SERVER_NAME]: { type: 'remote', url, headers: bearer(token), oauth: false, enabled: true },
      },
    }),
    env: {},
  }),
  // Copilot CLI's mcp-config.json (or --additional-mcp-config): `tools` is required.
  'copilot-json': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: json({
      mcpServers: { [SERVER_NAME]: { type: 'http', url, headers: bearer(token), tools: ['*'] } },
    }),
    env: {},
  }),
  // One Codex `-c key=value` override (the value is TOML): the token stays in the environment.
  'codex-override': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: `mcp_servers.${SERVER_NAME}={url=${tomlString(url)},bearer_token_env_var=${tomlString(TOKEN_ENV)}}`,
    env: { [TOKEN_ENV]: token },
  }),
  // Vibe's `mcp_servers` list as JSON, for VIBE_MCP_SERVERS (merged with the user's by name).
  'vibe-json': ({ url, token }: BridgeEndpoint): RenderedMcpConfig => ({
    text: JSON.stringify([
      {
        name: SERVER_NAME,
        transport: 'streamable-http',
        url,
        auth: { type: 'static', headers: bearer(token) },
      },
    ]),
    env: {},
  }),
};

export type McpFormatName = keyof typeof MCP_FORMATS;
