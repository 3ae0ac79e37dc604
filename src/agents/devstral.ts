import { defineAgent } from './types.js';

export const devstral = defineAgent({
  name: 'devstral',
  displayName: 'Mistral Vibe (Devstral)',
  provider: 'Mistral AI',
  aliases: ['vibe', 'd'],
  // Vibe needs Python ≥ 3.12, so its image starts from Debian trixie (bookworm ships 3.11).
  install: { kind: 'pip', package: 'mistral-vibe', version: '3.0.3', python: '3.12' },
  command: ['vibe'],
  versionCommand: ['vibe', '--version'],
  yoloArgs: ['--auto-approve'],
  statePaths: ['.vibe'],
  authEnv: ['MISTRAL_API_KEY'],
  apiDomains: ['api.mistral.ai', 'console.mistral.ai'],
  instructionsFile: 'AGENTS.md',
});
