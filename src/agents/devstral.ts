import { defineAgent } from './types.js';

// Vibe reads custom providers and models from ~/.vibe/config.toml; a generic OpenAI-style
// provider reaches any Chat Completions endpoint. The key stays in the environment.
const CONFIG = `active_model = "corral"
enable_update_checks = false
enable_auto_update = false

[[providers]]
name = "corral"
api_base = "{baseUrl}/v1"
api_key_env_var = "CORRAL_MODEL_API_KEY"
api_style = "openai"
backend = "generic"

[[models]]
name = "{model}"
provider = "corral"
alias = "corral"
`;

export const devstral = defineAgent({
  name: 'devstral',
  displayName: 'Mistral Vibe (Devstral)',
  provider: 'Mistral AI',
  aliases: ['vibe', 'd'],
  // Vibe needs Python ≥ 3.12, so its image starts from Debian trixie (bookworm ships 3.11).
  // 3.0.3 pins certifi==2026.10.19, which the PyPI mirror here does not carry yet (newest 2026.10.18).
  install: { kind: 'pip', package: 'mistral-vibe', version: '3.0.2', python: '3.12' },
  command: ['vibe'],
  versionCommand: ['vibe', '--version'],
  yoloArgs: ['--auto-approve'],
  statePaths: ['.vibe'],
  loginFiles: ['.vibe/.env'],
  authEnv: ['MISTRAL_API_KEY'],
  authProbe: { url: 'https://api.mistral.ai/v1/models' },
  injectable: [{ env: 'MISTRAL_API_KEY', host: 'api.mistral.ai', header: 'authorization' }],
  // Vibe's VIBE_* env layer: its mcp_servers list is merged with config.toml's by name. Vibe 3
  // offers MCP tools in code mode: the model calls them inside its run_typescript tool.
  mcp: {
    format: 'vibe-json',
    env: { VIBE_MCP_SERVERS: '{config}' },
    tool: 'run_typescript: tools.mcp_corral.run_command(…)',
    // Vibe does not pass MCP instructions to the model; a user skill's description it does.
    instructionsFile: '.vibe/skills/corral-host-bridge/SKILL.md',
  },
  apiDomains: ['api.mistral.ai', 'console.mistral.ai'],
  instructionsFile: 'AGENTS.md',
  endpoint: {
    wire: 'openai-chat',
    env: { CORRAL_MODEL_API_KEY: '{apiKey}' },
    files: { '.vibe/config.toml': CONFIG },
    // Vibe ignores an untrusted folder's AGENTS.md; the sandbox is the trust boundary (and --trust
    // lasts for this invocation only, so nothing is written to ~/.vibe/trusted_folders.toml).
    promptArgs: ['--trust', '-p', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
});
