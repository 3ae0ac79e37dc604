import { defineAgent } from './types.js';

const MODELS = JSON.stringify(
  {
    providers: {
      corral: {
        baseUrl: '{baseUrl}/v1',
        api: 'openai-completions',
        apiKey: '{apiKey}',
        models: [{ id: '{model}' }],
        compat: { supportsDeveloperRole: false },
      },
    },
  },
  null,
  2,
);

export const pi = defineAgent({
  name: 'pi',
  displayName: 'pi coding agent',
  provider: 'Mario Zechner (any model provider)',
  aliases: ['pi'],
  install: { kind: 'npm', package: '@mariozechner/pi-coding-agent', version: '0.73.1' },
  command: ['pi'],
  versionCommand: ['pi', '--version'],
  yoloArgs: [],
  skillsDir: '.pi/agent/skills',
  statePaths: ['.pi'],
  loginFiles: ['.pi/agent/auth.json'],
  authEnv: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY'],
  apiDomains: ['api.anthropic.com', 'api.openai.com', 'generativelanguage.googleapis.com'],
  // Falls back to CLAUDE.md.
  instructionsFile: 'AGENTS.md',
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'GEMINI_API_KEY', host: 'generativelanguage.googleapis.com', header: 'x-goog-api-key' },
  ],
  hostSettings: ['.pi/agent/settings.json', '.pi/agent/AGENTS.md'],
  env: { PI_SKIP_VERSION_CHECK: '1', PI_TELEMETRY: '0' },
  endpoint: {
    wire: 'openai-chat',
    files: { '.pi/agent/models.json': MODELS },
    // pi has no subcommands, so the model choice works for the TUI and for -p alike.
    args: ['--provider', 'corral', '--model', '{model}'],
    promptArgs: ['-p', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
  notes: [
    'no autonomy flag: pi has no permission prompts and runs every tool without asking',
    'no host bridge: pi has no MCP support (by design)',
  ],
});
