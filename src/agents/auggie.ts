import { defineAgent } from './types.js';

export const auggie = defineAgent({
  name: 'auggie',
  displayName: 'Auggie (Augment Code)',
  provider: 'Augment Code',
  aliases: ['a'],
  install: { kind: 'npm', package: '@augmentcode/auggie', version: '0.36.0' },
  command: ['auggie'],
  versionCommand: ['auggie', '--version'],
  yoloArgs: [],
  statePaths: ['.augment'],
  authEnv: ['AUGMENT_SESSION_AUTH', 'AUGMENT_API_TOKEN'],
  apiDomains: ['api.augmentcode.com', 'auth.augmentcode.com', 'augmentcode.com'],
  instructionsFile: 'AGENTS.md',
  notes: [
    'no autonomy flag: grant tools with --permission tool:policy rules (pass after --)',
    'no custom model endpoint: Auggie talks only to Augment',
  ],
});
