import { defineAgent } from './types.js';

// Crush reads custom providers from crush.json: an "openai-compat" provider reaches any Chat
// Completions endpoint, and `models.large` makes it the default.
const CONFIG = JSON.stringify(
  {
    $schema: 'https://charm.land/crush.json',
    providers: {
      corral: {
        type: 'openai-compat',
        base_url: '{baseUrl}/v1',
        api_key: '{apiKey}',
        models: [{ id: '{model}', name: '{model}', context_window: 128000 }],
      },
    },
    models: {
      large: { model: '{model}', provider: 'corral' },
      small: { model: '{model}', provider: 'corral' },
    },
    options: { disable_provider_auto_update: true, disable_metrics: true },
  },
  null,
  2,
);

export const crush = defineAgent({
  name: 'crush',
  displayName: 'Crush',
  provider: 'Charm (any model provider)',
  aliases: ['cr'],
  install: { kind: 'npm', package: '@charmland/crush', version: '0.96.1' },
  command: ['crush'],
  versionCommand: ['crush', '--version'],
  yoloArgs: ['--yolo'],
  statePaths: ['.config/crush', '.local/share/crush'],
  authEnv: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY'],
  apiDomains: [
    'api.anthropic.com',
    'api.openai.com',
    'generativelanguage.googleapis.com',
    'catwalk.charm.sh',
  ],
  instructionsFile: 'AGENTS.md',
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'GEMINI_API_KEY', host: 'generativelanguage.googleapis.com', header: 'x-goog-api-key' },
  ],
  resumeArgs: ['--continue'],
  env: { CRUSH_DISABLE_METRICS: '1' },
  endpoint: {
    wire: 'openai-chat',
    files: { '.config/crush/crush.json': CONFIG },
    promptArgs: ['run', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
  unavailable:
    "@charmland/crush's install script downloads its binary from github.com, which no registry here serves",
  notes: [
    'not installable here: its npm install script fetches the binary from github.com releases',
    'no ACP server; no host bridge yet (its MCP config lives in crush.json beside the endpoint)',
  ],
});
