import { defineAgent } from './types.js';

// OpenCode reads providers from opencode.json; an openai-compatible provider reaches any Chat
// Completions endpoint, and `model` makes it the default, so `run` needs no -m (and a plain
// `--prompt` without a custom endpoint keeps the user's own model).
const CONFIG = JSON.stringify(
  {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      corral: {
        npm: '@ai-sdk/openai-compatible',
        name: 'corral',
        options: { baseURL: '{baseUrl}/v1', apiKey: '{apiKey}' },
        models: { '{model}': { name: '{model}' } },
      },
    },
    model: 'corral/{model}',
  },
  null,
  2,
);

// At every start OpenCode installs @opencode-ai/plugin from registry.npmjs.org into each config
// folder (for custom tools written there), in the background; against a custom endpoint that is
// traffic to the public internet for nothing. It skips the install when the folder's node_modules
// exists and its package-lock.json already lists every dependency, so the endpoint seeds both.
const PLUGIN_LOCK = JSON.stringify(
  {
    name: 'opencode-config',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } },
  },
  null,
  2,
);

export const opencode = defineAgent({
  name: 'opencode',
  displayName: 'OpenCode',
  provider: 'SST (any model provider)',
  aliases: ['o'],
  install: { kind: 'npm', package: 'opencode-ai', version: '1.18.33' },
  command: ['opencode'],
  versionCommand: ['opencode', '--version'],
  yoloArgs: ['--auto'],
  // `--auto` before `run` makes OpenCode print its help; headless `run` already allows its tools.
  headlessYoloArgs: [],
  resumeArgs: ['--continue'],
  acp: { args: ['acp'] },
  skillsDir: '.config/opencode/skill',
  statePaths: ['.local/share/opencode', '.config/opencode', '.local/state/opencode', '.cache/opencode'],
  loginFiles: ['.local/share/opencode/auth.json'],
  authEnv: [
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
    'GEMINI_API_KEY',
    'OPENROUTER_API_KEY',
    'OPENCODE_API_KEY',
  ],
  apiDomains: ['opencode.ai', 'models.dev', 'api.anthropic.com', 'api.openai.com'],
  instructionsFile: 'AGENTS.md',
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'GEMINI_API_KEY', host: 'generativelanguage.googleapis.com', header: 'x-goog-api-key' },
  ],
  // OPENCODE_CONFIG_CONTENT is merged over every config file OpenCode reads; none is touched.
  mcp: { format: 'opencode-json', env: { OPENCODE_CONFIG_CONTENT: '{config}' }, tool: 'corral_run_command' },
  hostSettings: ['.config/opencode/opencode.json', '.config/opencode/AGENTS.md'],
  env: { OPENCODE_DISABLE_AUTOUPDATE: 'true' },
  endpoint: {
    wire: 'openai-chat',
    // The model catalogue (models.dev) is of no use against a custom endpoint.
    env: { OPENCODE_DISABLE_MODELS_FETCH: 'true' },
    files: {
      '.config/opencode/opencode.json': CONFIG,
      '.config/opencode/package-lock.json': PLUGIN_LOCK,
      '.config/opencode/node_modules/.corral': 'written by corral: see package-lock.json\n',
    },
    promptArgs: ['run', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
  // `--auto` is an option of the TUI and of `run`: placed before `run` it makes OpenCode print its
  // help and exit. Headless `run` needs no --auto: its default permissions allow the built-in tools.
  notes: ['--yolo (--auto) is for the TUI; headless `opencode run` already allows its built-in tools'],
});
