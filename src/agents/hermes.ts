import { defineAgent } from './types.js';

export const hermes = defineAgent({
  name: 'hermes',
  displayName: 'Hermes Agent',
  provider: 'Nous Research (any model provider)',
  aliases: ['h'],
  install: { kind: 'pip', package: 'hermes-agent', version: '0.19.0', python: '3.11' },
  command: ['hermes'],
  versionCommand: ['hermes', '--version'],
  yoloArgs: ['--yolo'],
  statePaths: ['.hermes'],
  loginFiles: ['.hermes/auth.json', '.hermes/.env'],
  authEnv: ['OPENROUTER_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'NOUS_API_KEY'],
  apiDomains: ['openrouter.ai', 'inference-api.nousresearch.com', 'portal.nousresearch.com'],
  instructionsFile: 'AGENTS.md',
  injectable: [{ env: 'OPENROUTER_API_KEY', host: 'openrouter.ai', header: 'authorization' }],
  resumeArgs: ['--continue'],
  acp: { command: ['hermes', 'acp'] },
  notes: [
    'no custom endpoint yet: `--provider custom` with OPENAI_BASE_URL reached the scripted model, but its terminal tool did not write into the working directory in a first try (unverified)',
    'no host bridge yet: its MCP servers live in ~/.hermes/config.yaml',
  ],
});
