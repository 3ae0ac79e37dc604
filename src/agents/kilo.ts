import { defineAgent } from './types.js';

// Kilo Code's CLI is an OpenCode fork: the same provider config (kilo.json), `run` headless, and
// KILO_CONFIG_CONTENT merged over every config file it reads.
const CONFIG = JSON.stringify(
  {
    provider: {
      corral: {
        npm: '@ai-sdk/openai-compatible',
        name: 'corral',
        options: { baseURL: '{baseUrl}/v1', apiKey: '{apiKey}' },
        models: { '{model}': { name: '{model}' } },
      },
    },
    model: 'corral/{model}',
    // Otherwise its built-in Kilo gateway provider fetches a model list from api.kilo.ai at start.
    enabled_providers: ['corral'],
  },
  null,
  2,
);

export const kilo = defineAgent({
  name: 'kilo',
  displayName: 'Kilo Code CLI',
  provider: 'Kilo Code (any model provider)',
  aliases: ['kilocode', 'k'],
  // 7.8.1's linux-x64 binary package is not on the registry here (its newest is 7.7.9).
  install: { kind: 'npm', package: '@kilocode/cli', version: '7.7.7' },
  command: ['kilo'],
  versionCommand: ['kilo', '--version'],
  yoloArgs: ['--auto'],
  // As with OpenCode: `--auto` before `run` is a TUI option; headless `run` allows its tools.
  headlessYoloArgs: [],
  statePaths: ['.local/share/kilo', '.config/kilo', '.local/state/kilo', '.cache/kilo'],
  loginFiles: ['.local/share/kilo/auth.json'],
  authEnv: ['KILO_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY'],
  apiDomains: ['api.kilo.ai', 'app.kilo.ai', 'kilocode.ai', 'api.anthropic.com', 'api.openai.com'],
  instructionsFile: 'AGENTS.md',
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
  ],
  mcp: { format: 'opencode-json', env: { KILO_CONFIG_CONTENT: '{config}' }, tool: 'corral_run_command' },
  hostSettings: ['.config/kilo/kilo.json', '.config/kilo/AGENTS.md'],
  resumeArgs: ['--continue'],
  acp: { args: ['acp'] },
  env: {
    KILO_DISABLE_AUTOUPDATE: 'true',
    KILO_TELEMETRY_LEVEL: 'off',
    KILO_DISABLE_SESSION_INGEST: 'true',
    KILO_DISABLE_LSP_DOWNLOAD: 'true',
    KILO_DISABLE_PRESENCE: 'true',
    KILO_DISABLE_SHARE: 'true',
  },
  endpoint: {
    wire: 'openai-chat',
    env: { KILO_DISABLE_MODELS_FETCH: 'true' },
    files: { '.config/kilo/kilo.json': CONFIG },
    promptArgs: ['run', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
  notes: ['--yolo (--auto) is for the TUI; headless `kilo run` already allows its built-in tools'],
});
