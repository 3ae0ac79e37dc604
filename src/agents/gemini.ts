import { defineAgent } from './types.js';

export const gemini = defineAgent({
  name: 'gemini',
  displayName: 'Gemini CLI',
  provider: 'Google',
  aliases: ['g'],
  install: { kind: 'npm', package: '@google/gemini-cli', version: '0.61.0' },
  command: ['gemini'],
  versionCommand: ['gemini', '--version'],
  yoloArgs: ['--approval-mode=yolo'],
  statePaths: ['.gemini'],
  authEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_GENAI_USE_VERTEXAI'],
  apiDomains: [
    'generativelanguage.googleapis.com',
    'cloudcode-pa.googleapis.com',
    'oauth2.googleapis.com',
    'accounts.google.com',
  ],
  instructionsFile: 'GEMINI.md',
  env: { GEMINI_CLI_NO_RELAUNCH: 'true' },
  endpoint: {
    wire: 'gemini',
    env: { GOOGLE_GEMINI_BASE_URL: '{baseUrl}', GEMINI_API_KEY: '{apiKey}' },
    promptArgs: ['-p', '{prompt}'],
  },
});
