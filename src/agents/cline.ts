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
          model: '{model}',
          baseUrl: '{baseUrl}/v1',
        },
        updatedAt: '2026-01-01T00:00:00.000Z',
        tokenSource: 'manual',
      },
    },
  },
  null,
  2,
);

// Telemetry (data.cline.bot, otel.cline.bot) off, and no update check against registry.npmjs.org.
const GLOBAL_SETTINGS = JSON.stringify({ telemetryOptOut: true, autoUpdateEnabled: false }, null, 2);

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
  env: { CLINE_NO_AUTO_UPDATE: '1' },
  endpoint: {
    wire: 'openai-chat',
    files: {
      '.cline/data/settings/providers.json': PROVIDERS,
      '.cline/data/settings/global-settings.json': GLOBAL_SETTINGS,
    },
    // The provider named too: a login of its own (the Cline provider) may be the last one used.
    args: ['--provider', 'openai-compatible', '--model', '{model}'],
    promptArgs: ['{prompt}'],
    defaultModel: 'corral-scripted',
  },
  notes: [
    'its PostHog client connects to data.cline.bot even with telemetry opted out (the gateway denies it)',
    'its login (~/.cline/data/settings/providers.json) stays in the home volume; corral does not keep a copy per profile',
    'no resume-last flag: `cline --id <session>` resumes a session by id (`cline history` lists them)',
    'no host bridge yet: its MCP servers live in ~/.cline/data/settings/cline_mcp_settings.json',
  ],
});
