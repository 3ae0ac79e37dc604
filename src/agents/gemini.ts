import { defineAgent } from './types.js';

// GOOGLE_GEMINI_BASE_URL alone makes 0.61 pick its "gateway" auth type, which headless mode then
// rejects ("Invalid auth method selected"); selecting API-key auth in settings keeps the base URL.
const SETTINGS = JSON.stringify(
  {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    // Read the workspace's AGENTS.md as well as GEMINI.md.
    context: { fileName: ['GEMINI.md', 'AGENTS.md'] },
  },
  null,
  2,
);

export const gemini = defineAgent({
  name: 'gemini',
  displayName: 'Gemini CLI',
  provider: 'Google',
  aliases: ['g'],
  install: { kind: 'npm', package: '@google/gemini-cli', version: '0.61.0' },
  command: ['gemini'],
  versionCommand: ['gemini', '--version'],
  yoloArgs: ['--approval-mode=yolo'],
  resumeArgs: ['--resume', 'latest'],
  acp: { args: ['--acp'] },
  statePaths: ['.gemini'],
  loginFiles: ['.gemini/oauth_creds.json', '.gemini/google_accounts.json'],
  // "Login with Google", brokered. From the 0.61 bundle: google-auth-library refreshes with a form
  // (client id and the CLI's published installed-app secret) at oauth2.googleapis.com; the access
  // token goes as a bearer to the Code Assist API, to tokeninfo (checked at start) and to userinfo.
  oauth: {
    format: 'gemini',
    file: '.gemini/oauth_creds.json',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
    clientSecret: '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',
    tokenBody: 'form',
    hosts: ['cloudcode-pa.googleapis.com', 'oauth2.googleapis.com', 'www.googleapis.com'],
  },
  authEnv: [
    'GEMINI_API_KEY',
    'GOOGLE_API_KEY',
    'GOOGLE_GENAI_USE_VERTEXAI',
    'GOOGLE_GENAI_USE_GCA',
    'GOOGLE_CLOUD_PROJECT',
    'GOOGLE_CLOUD_LOCATION',
  ],
  apiDomains: [
    'generativelanguage.googleapis.com',
    'cloudcode-pa.googleapis.com',
    'oauth2.googleapis.com',
    'www.googleapis.com',
    'accounts.google.com',
  ],
  instructionsFile: 'GEMINI.md',
  hostSettings: ['.gemini/settings.json', '.gemini/GEMINI.md'],
  // An extension of corral's own: settings.json (the user's, or an endpoint's) stays untouched.
  // (A system-defaults file would be simpler, but Gemini reads one only from a root-owned folder.)
  mcp: {
    format: 'gemini-extension',
    file: '.gemini/extensions/corral/gemini-extension.json',
    tool: 'mcp_corral_run_command',
  },
  authProbe: {
    url: 'https://generativelanguage.googleapis.com/v1beta/models',
    baseUrlEnv: 'GOOGLE_GEMINI_BASE_URL',
  },
  injectable: [
    { env: 'GEMINI_API_KEY', host: 'generativelanguage.googleapis.com', header: 'x-goog-api-key' },
    { env: 'GOOGLE_API_KEY', host: 'generativelanguage.googleapis.com', header: 'x-goog-api-key' },
  ],
  env: {
    // The CLI re-spawns itself to raise its heap limit; one process is enough in a sandbox.
    GEMINI_CLI_NO_RELAUNCH: 'true',
    // The sandbox is the trust boundary. Gemini's own folder trust would otherwise ask on every new
    // workspace and silently downgrade --approval-mode=yolo to "default" in headless runs.
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
  },
  endpoint: {
    wire: 'gemini',
    env: {
      GOOGLE_GEMINI_BASE_URL: '{baseUrl}',
      GEMINI_API_KEY: '{apiKey}',
      // A fixed model skips the "auto" router, whose classifier call retries for ~100 s against a
      // server that does not answer in its JSON format.
      GEMINI_MODEL: '{model}',
    },
    files: { '.gemini/settings.json': SETTINGS },
    promptArgs: ['-p', '{prompt}'],
    defaultModel: 'gemini-2.5-pro',
  },
});
