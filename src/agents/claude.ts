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
  statePaths: ['.claude', '.claude.json'],
  loginFiles: ['.claude/.credentials.json'],
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
  env: { DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  endpoint: {
    wire: 'anthropic',
    env: { ANTHROPIC_BASE_URL: '{baseUrl}', ANTHROPIC_API_KEY: '{apiKey}' },
    promptArgs: ['-p', '{prompt}'],
  },
});
