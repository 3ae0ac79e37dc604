import { defineAgent } from './types.js';

export const copilot = defineAgent({
  name: 'copilot',
  displayName: 'GitHub Copilot CLI',
  provider: 'GitHub',
  aliases: ['p'],
  install: { kind: 'npm', package: '@github/copilot', version: '1.0.102' },
  command: ['copilot'],
  // Prints "GitHub Copilot CLI 1.0.102." and a line about `copilot update`.
  versionCommand: ['copilot', '--version'],
  // Same as --allow-all (tools, paths and URLs); -p without it cannot run tools.
  yoloArgs: ['--yolo'],
  resumeArgs: ['--continue'],
  acp: { args: ['--acp'] },
  skillsDir: '.copilot/skills',
  statePaths: ['.copilot'],
  loginFiles: ['.copilot/config.json'],
  // In this order of precedence, over a stored /login.
  authEnv: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'],
  apiDomains: [
    'api.githubcopilot.com',
    'api.individual.githubcopilot.com',
    'api.business.githubcopilot.com',
    'api.enterprise.githubcopilot.com',
    'api.github.com',
    'github.com',
    'copilot-proxy.githubusercontent.com',
  ],
  // Its own file; it also reads AGENTS.md, CLAUDE.md and GEMINI.md (`copilot instruction list`).
  instructionsFile: '.github/copilot-instructions.md',
  // Augments ~/.copilot/mcp-config.json for this session only.
  mcp: {
    format: 'copilot-json',
    file: '.corral/copilot-mcp.json',
    args: ['--additional-mcp-config', '@{file}'],
    tool: 'corral-run_command',
    // Copilot drops MCP server instructions; it reads modular user-level instruction files.
    instructionsFile: '.copilot/instructions/corral-bridge.instructions.md',
  },
  // The GitHub token also goes to Copilot's API hosts (GitHub's own hosts get it for every agent:
  // src/workspace/secrets.ts); the sandbox holds a placeholder.
  injectable: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'].flatMap((env) =>
    ['*.githubcopilot.com', 'copilot-proxy.githubusercontent.com'].map((host) => ({
      env,
      host,
      header: 'authorization' as const,
      anyScheme: true,
    })),
  ),
  env: { COPILOT_AUTO_UPDATE: 'false' },
  endpoint: {
    // BYOK: with COPILOT_PROVIDER_BASE_URL set it needs no GitHub login; offline mode also drops
    // telemetry, GitHub MCP and update checks.
    wire: 'openai-chat',
    env: {
      COPILOT_PROVIDER_BASE_URL: '{baseUrl}/v1',
      COPILOT_PROVIDER_API_KEY: '{apiKey}',
      // A model id Copilot knows, so it applies that model's tool and token settings.
      COPILOT_MODEL: '{model}',
      COPILOT_OFFLINE: 'true',
    },
    promptArgs: ['-p', '{prompt}'],
    defaultModel: 'gpt-4.1',
  },
});
