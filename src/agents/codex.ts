import { defineAgent } from './types.js';

// A custom provider in ~/.codex/config.toml points Codex at any Responses-API endpoint. The model
// lives here, not in promptArgs, so `--prompt` without a custom endpoint keeps the user's model:
// gpt-5-codex keeps the classic function-tool protocol (newer defaults nest tools differently).
// Plugins off: at start Codex syncs its curated plugin list from github.com, api.github.com and
// chatgpt.com; analytics off: it reports to ab.chatgpt.com. Neither is any use against a custom
// endpoint, and the sandbox should talk to nothing but the model.
const CONFIG = `model_provider = "corral"
model = "{model}"

[model_providers.corral]
name = "corral"
base_url = "{baseUrl}/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"

[features]
plugins = false

[analytics]
enabled = false
`;

export const codex = defineAgent({
  name: 'codex',
  displayName: 'Codex CLI',
  provider: 'OpenAI',
  aliases: ['x'],
  install: { kind: 'npm', package: '@openai/codex', version: '0.169.0' },
  command: ['codex'],
  versionCommand: ['codex', '--version'],
  yoloArgs: ['--dangerously-bypass-approvals-and-sandbox'],
  resumeArgs: ['resume', '--last'],
  // Zed's adapter (codex-acp, a Rust build of Codex's core) reads the same ~/.codex/config.toml.
  // Checked by hand: initialize and session/new; a prompt's shell tool did not write yet (its own
  // sandbox inside the container), so it is not in the ACP e2e test.
  acp: {
    command: ['codex-acp'],
    adapter: { package: '@zed-industries/codex-acp', version: '0.16.0' },
  },
  skillsDir: '.codex/skills',
  statePaths: ['.codex'],
  authEnv: ['OPENAI_API_KEY', 'CODEX_API_KEY', 'CODEX_ACCESS_TOKEN'],
  apiDomains: ['api.openai.com', 'auth.openai.com', 'chatgpt.com'],
  instructionsFile: 'AGENTS.md',
  // config.toml is left out: its model provider would fight the one corral writes for an endpoint.
  hostSettings: ['.codex/AGENTS.md'],
  // A `-c` override rather than config.toml, which holds the user's own settings in the state
  // volume; the bearer token comes from the environment (bearer_token_env_var).
  mcp: { format: 'codex-override', args: ['-c', '{config}'], tool: 'mcp__corral__run_command' },
  authProbe: { url: 'https://api.openai.com/v1/models', baseUrlEnv: 'OPENAI_BASE_URL' },
  injectable: [
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'CODEX_API_KEY', host: 'api.openai.com', header: 'authorization' },
  ],
  // ChatGPT logins: the binary's client id; it refreshes at auth.openai.com and sends the access
  // token to chatgpt.com's backend (API keys go to api.openai.com, above).
  oauth: {
    format: 'codex',
    file: '.codex/auth.json',
    tokenUrl: 'https://auth.openai.com/oauth/token',
    clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
    scopes: ['openid', 'profile', 'email'],
    hosts: ['chatgpt.com', 'api.openai.com'],
  },
  loginFiles: ['.codex/auth.json'],
  // The browser comes back to http://localhost:1455/auth/callback, where `codex login` listens.
  login: { args: ['login'], callbackPorts: [1455] },
  endpoint: {
    wire: 'openai-responses',
    env: { OPENAI_API_KEY: '{apiKey}' },
    files: { '.codex/config.toml': CONFIG },
    defaultModel: 'gpt-5-codex',
    // Codex's own sandbox (bubblewrap) keeps `exec` read-only inside a container, so headless runs
    // bypass it; corral's sandbox is the boundary. A root-level yolo flag before `exec` is accepted
    // alongside it (a second one after `exec` is not).
    promptArgs: ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '{prompt}'],
  },
  // `codex exec` prints "session id: <uuid>" in its header; `codex resume <id>` reopens it, and
  // headless it is a subcommand of its own that takes the id and the prompt.
  session: {
    pattern: 'session id: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})',
    resumeArgs: ['resume', '{sessionId}'],
    headlessResume: false,
    headlessResumeArgs: [
      'exec',
      'resume',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '{sessionId}',
      '{prompt}',
    ],
  },
});
