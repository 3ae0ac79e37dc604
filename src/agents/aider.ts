import { defineAgent } from './types.js';

export const aider = defineAgent({
  name: 'aider',
  displayName: 'Aider',
  provider: 'Aider (any model provider, via LiteLLM)',
  aliases: ['ai'],
  // aider-chat pins numpy and friends for Python < 3.13; bookworm's 3.11 fits.
  install: { kind: 'pip', package: 'aider-chat', version: '0.86.2', python: '3.11' },
  command: ['aider'],
  versionCommand: ['aider', '--version'],
  // Answers every confirmation (file edits, adding files, running suggested commands) with yes.
  yoloArgs: ['--yes-always'],
  statePaths: ['.aider', '.cache/aider'],
  authEnv: [
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'GEMINI_API_KEY',
    'DEEPSEEK_API_KEY',
    'OPENROUTER_API_KEY',
  ],
  apiDomains: [
    'api.openai.com',
    'api.anthropic.com',
    'generativelanguage.googleapis.com',
    'api.deepseek.com',
  ],
  instructionsFile: 'CONVENTIONS.md',
  instructionsArgs: ['--read', 'AGENTS.md'],
  injectable: [
    { env: 'OPENAI_API_KEY', host: 'api.openai.com', header: 'authorization' },
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'DEEPSEEK_API_KEY', host: 'api.deepseek.com', header: 'authorization' },
  ],
  resumeArgs: ['--restore-chat-history'],
  // Aider commits its edits to git by default and checks PyPI for updates; neither belongs in a sandbox.
  env: { AIDER_AUTO_COMMITS: 'false', AIDER_CHECK_UPDATE: 'false', AIDER_ANALYTICS: 'false' },
  endpoint: {
    wire: 'openai-chat',
    env: { OPENAI_API_BASE: '{baseUrl}/v1', OPENAI_API_KEY: '{apiKey}' },
    args: ['--model', 'openai/{model}', '--no-show-model-warnings'],
    promptArgs: ['--message', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
  notes: [
    'not in the e2e table: Aider edits files through text edit formats, not tool calls, so the scripted shell step does not apply',
    'no ACP server; no MCP client',
  ],
});
