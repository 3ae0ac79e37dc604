import { defineAgent } from './types.js';

// What `cline auth -p openai -k KEY -m MODEL -b URL` writes: an OpenAI-compatible provider that
// becomes the last used one, so a bare `cline "…"` talks to it.
const PROVIDERS = JSON.stringify(
  {
    version: 1,
    lastUsedProvider: 'openai-compatible',
    modes: {},
    providers: {
      'openai-compatible': {
        settings: {
          provider: 'openai-compatible',
          apiKey: '{apiKey}',
          model: 'corral-scripted',
          baseUrl: '{baseUrl}/v1',
        },
        tokenSource: 'manual',
      },
    },
  },
  null,
  2,
);

export const cline = defineAgent({
  name: 'cline',
  displayName: 'Cline CLI',
  provider: 'Cline (any model provider)',
  aliases: ['cl'],
  install: { kind: 'npm', package: 'cline', version: '3.0.65' },
  command: ['cline'],
  versionCommand: ['cline', '--version'],
  // A prompt runs in act mode with every tool auto-approved already; the TUI asks unless told not to.
  yoloArgs: ['--auto-approve', 'true'],
  headlessYoloArgs: [],
  statePaths: ['.cline'],
  loginFiles: ['.cline/data/settings/providers.json'],
  authEnv: ['CLINE_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY'],
  apiDomains: ['api.cline.bot', 'app.cline.bot', 'api.anthropic.com', 'api.openai.com', 'openrouter.ai'],
  // Also reads .clinerules.
  instructionsFile: 'AGENTS.md',
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'OPENROUTER_API_KEY', host: 'openrouter.ai', header: 'authorization' },
  ],
  acp: { args: ['--acp'] },
  endpoint: {
    wire: 'openai-chat',
    files: { '.cline/data/settings/providers.json': PROVIDERS },
    promptArgs: ['{prompt}'],
  },
  notes: [
    'no resume-last flag: `cline --id <session>` resumes a session by id (`cline history` lists them)',
    'no host bridge yet: its MCP servers live in ~/.cline/data/settings/cline_mcp_settings.json',
  ],
});
