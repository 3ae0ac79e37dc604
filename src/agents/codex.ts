import { defineAgent } from './types.js';

// A custom provider in ~/.codex/config.toml points Codex at any Responses-API endpoint.
// `-m gpt-5-codex` keeps the classic function-tool protocol (newer defaults nest tools differently).
const CONFIG = `model_provider = "corral"
model = "gpt-5-codex"

[model_providers.corral]
name = "corral"
base_url = "{baseUrl}/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
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
  statePaths: ['.codex'],
  authEnv: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  apiDomains: ['api.openai.com', 'auth.openai.com', 'chatgpt.com'],
  instructionsFile: 'AGENTS.md',
  endpoint: {
    wire: 'openai-responses',
    env: { OPENAI_API_KEY: '{apiKey}' },
    files: { '.codex/config.toml': CONFIG },
    promptArgs: [
      'exec',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '-m',
      'gpt-5-codex',
      '{prompt}',
    ],
  },
});
