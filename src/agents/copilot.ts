import { defineAgent } from './types.js';

export const copilot = defineAgent({
  name: 'copilot',
  displayName: 'GitHub Copilot CLI',
  provider: 'GitHub',
  aliases: ['p'],
  install: { kind: 'npm', package: '@github/copilot', version: '1.0.102' },
  command: ['copilot'],
  versionCommand: ['copilot', '--version'],
  yoloArgs: ['--yolo'],
  statePaths: ['.copilot'],
  authEnv: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'],
  apiDomains: [
    'api.githubcopilot.com',
    'api.github.com',
    'github.com',
    'copilot-proxy.githubusercontent.com',
  ],
  instructionsFile: '.github/copilot-instructions.md',
  notes: ['no custom model endpoint: Copilot talks only to GitHub'],
});
