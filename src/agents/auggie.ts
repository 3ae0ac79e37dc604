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
  loginFiles: ['.augment/session.json'],
  // The session JSON `auggie token print` gives; AUGMENT_API_TOKEN is only derived from it.
  authEnv: ['AUGMENT_SESSION_AUTH'],
  // Each account talks to its own tenant, <tenant>.api.augmentcode.com (the session's tenantURL).
  apiDomains: ['api.augmentcode.com', '*.api.augmentcode.com', 'auth.augmentcode.com', 'app.augmentcode.com'],
  // Also reads .augment-guidelines, .augment/rules/ and CLAUDE.md.
  instructionsFile: 'AGENTS.md',
  // The session's accessToken stays on the host: the sandbox's AUGMENT_SESSION_AUTH carries a
  // placeholder in its place, swapped in on requests to the tenant's API.
  injectable: ['*.api.augmentcode.com', 'api.augmentcode.com'].map((host) => ({
    env: 'AUGMENT_SESSION_AUTH',
    host,
    header: 'authorization' as const,
    field: 'accessToken',
  })),
  env: { AUGMENT_DISABLE_AUTO_UPDATE: '1' },
  notes: [
    'no autonomy flag: --permission takes one tool per rule (no wildcard); --print runs without prompts',
    'no custom model endpoint: Auggie talks only to Augment',
    'no host bridge yet: it has --mcp-config, but with no custom endpoint corral cannot test it',
  ],
});
