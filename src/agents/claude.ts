import { defineAgent } from './types.js';

export const claude = defineAgent({
  name: 'claude',
  displayName: 'Claude Code',
  provider: 'Anthropic',
  aliases: ['c'],
  install: { kind: 'npm', package: '@anthropic-ai/claude-code', version: '2.1.330' },
  command: ['claude'],
  versionCommand: ['claude', '--version'],
  yoloArgs: ['--dangerously-skip-permissions'],
  resumeArgs: ['--continue'],
  // No ACP server of its own: Zed's adapter (on the Claude Agent SDK) is layered onto the image.
  acp: {
    command: ['claude-code-acp'],
    adapter: { package: '@zed-industries/claude-code-acp', version: '0.16.2' },
  },
  skillsDir: '.claude/skills',
  statePaths: ['.claude', '.claude.json'],
  authEnv: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN'],
  // 2.1.x refreshes OAuth tokens at platform.claude.com (console.anthropic.com and statsig are gone).
  apiDomains: ['api.anthropic.com', 'platform.claude.com', 'claude.ai', 'claude.com'],
  instructionsFile: 'CLAUDE.md',
  instructionsArgs: ['--append-system-prompt', '{instructions}'],
  hostSettings: ['.claude/settings.json', '.claude/CLAUDE.md'],
  // Its own file, not ~/.claude.json: that one holds the login.
  mcp: {
    format: 'claude-json',
    file: '.corral/mcp.json',
    args: ['--mcp-config', '{file}'],
    tool: 'mcp__corral__run_command',
  },
  setupToken: {
    command: ['claude', 'setup-token'],
    env: 'CLAUDE_CODE_OAUTH_TOKEN',
    pattern: 'sk-ant-oat01-[A-Za-z0-9_-]{20,}',
  },
  authProbe: {
    url: 'https://api.anthropic.com/v1/models',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    headers: { 'anthropic-version': '2023-06-01' },
    oauthHeaders: { 'anthropic-beta': 'oauth-2025-04-20' },
  },
  injectable: [
    { env: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com', header: 'x-api-key' },
    { env: 'CLAUDE_CODE_OAUTH_TOKEN', host: 'api.anthropic.com', header: 'authorization' },
    { env: 'ANTHROPIC_AUTH_TOKEN', host: 'api.anthropic.com', header: 'authorization' },
  ],
  // Found in the 2.1.330 binary: it refreshes with a JSON body {grant_type, refresh_token, client_id,
  // scope} at platform.claude.com and sends the access token as a bearer to api.anthropic.com.
  oauth: {
    format: 'claude',
    file: '.claude/.credentials.json',
    tokenUrl: 'https://platform.claude.com/v1/oauth/token',
    clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
    scopes: [
      'user:profile',
      'user:inference',
      'user:sessions:claude_code',
      'user:mcp_servers',
      'user:file_upload',
    ],
    hosts: ['api.anthropic.com'],
  },
  loginFiles: ['.claude/.credentials.json'],
  // Without a browser it shows a URL and takes the code pasted back: no callback port to forward.
  login: { args: ['auth', 'login'], callbackPorts: [] },
  env: { DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  endpoint: {
    wire: 'anthropic',
    env: { ANTHROPIC_BASE_URL: '{baseUrl}', ANTHROPIC_API_KEY: '{apiKey}' },
    // Claude Code keeps its own default unless a model is chosen; its side requests (titles,
    // summaries) go to the "small fast" model, which a provider may not serve.
    modelEnv: {
      ANTHROPIC_MODEL: '{model}',
      ANTHROPIC_SMALL_FAST_MODEL: '{model}',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: '{model}',
    },
    promptArgs: ['-p', '{prompt}'],
  },
  // Conversations live in ~/.claude/projects/ in the workspace's home volume; corral names each.
  session: { assignArgs: ['--session-id', '{sessionId}'], resumeArgs: ['--resume', '{sessionId}'] },
});
