import { defineAgent } from './types.js';

// Qwen Code (a Gemini CLI fork) speaks OpenAI Chat Completions to any endpoint once its auth type
// is "openai"; the base URL, key and model come from the environment. Usage statistics off (they go
// to Alibaba's telemetry host), folder trust off (the sandbox is the trust boundary), and AGENTS.md
// read beside QWEN.md.
const SETTINGS = JSON.stringify(
  {
    security: { auth: { selectedType: 'openai' }, folderTrust: { enabled: false } },
    privacy: { usageStatisticsEnabled: false },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
    context: { fileName: ['QWEN.md', 'AGENTS.md'] },
  },
  null,
  2,
);

export const qwen = defineAgent({
  name: 'qwen',
  displayName: 'Qwen Code',
  provider: 'Alibaba Qwen (any OpenAI-compatible provider)',
  aliases: ['q'],
  install: { kind: 'npm', package: '@qwen-code/qwen-code', version: '0.24.4' },
  command: ['qwen'],
  versionCommand: ['qwen', '--version'],
  yoloArgs: ['--yolo'],
  statePaths: ['.qwen'],
  loginFiles: ['.qwen/oauth_creds.json'],
  // Qwen OAuth, brokered. From the 0.24 bundle: it refreshes with a form (grant, refresh token,
  // client id; no secret, no scope) at chat.qwen.ai and sends the access token as a bearer to the
  // `resource_url` its login names (portal.qwen.ai, or DashScope).
  oauth: {
    format: 'qwen',
    file: '.qwen/oauth_creds.json',
    tokenUrl: 'https://chat.qwen.ai/api/v1/oauth2/token',
    clientId: 'f0304373b74a44d2b584a3fb70ca9e56',
    tokenBody: 'form',
    hosts: ['portal.qwen.ai', 'dashscope.aliyuncs.com', 'dashscope-intl.aliyuncs.com'],
  },
  authEnv: ['OPENAI_API_KEY', 'DASHSCOPE_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY'],
  apiDomains: ['dashscope.aliyuncs.com', 'dashscope-intl.aliyuncs.com', 'chat.qwen.ai', 'portal.qwen.ai'],
  instructionsFile: 'QWEN.md',
  instructionsArgs: ['--append-system-prompt', '{instructions}'],
  hostSettings: ['.qwen/settings.json', '.qwen/QWEN.md'],
  injectable: [
    { env: 'DASHSCOPE_API_KEY', host: 'dashscope.aliyuncs.com', header: 'authorization' },
    { env: 'DASHSCOPE_API_KEY', host: 'dashscope-intl.aliyuncs.com', header: 'authorization' },
  ],
  // --mcp-config adds servers for this run; ~/.qwen/settings.json (the user's) stays untouched.
  mcp: {
    format: 'qwen-json',
    file: '.corral/qwen-mcp.json',
    args: ['--mcp-config', '{file}'],
    tool: 'mcp__corral__run_command',
  },
  resumeArgs: ['--continue'],
  acp: { args: ['--acp'] },
  // The CLI re-spawns itself to raise its heap limit; one process is enough in a sandbox.
  env: { QWEN_CODE_NO_RELAUNCH: 'true', QWEN_CODE_SUPPRESS_YOLO_WARNING: '1' },
  endpoint: {
    wire: 'openai-chat',
    env: {
      OPENAI_BASE_URL: '{baseUrl}/v1',
      OPENAI_API_KEY: '{apiKey}',
      OPENAI_MODEL: '{model}',
    },
    files: { '.qwen/settings.json': SETTINGS },
    promptArgs: ['-p', '{prompt}'],
    defaultModel: 'corral-scripted',
  },
});
