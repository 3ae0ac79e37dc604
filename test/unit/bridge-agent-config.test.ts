/** How each agent is told about the host bridge: the rendered configs and how they are handed over. */
import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent, renderEndpoint } from '../../src/agents/index.js';
import {
  deepMerge,
  mergeConfigText,
  renderMcpConfig,
  staleMcpCleanup,
  TOKEN_ENV,
  wireMcp,
} from '../../src/bridge/agent-config.js';

const URL = 'http://127.0.0.1:3129/mcp';
const TOKEN = 'tok-0123456789abcdef';
const HOME = '/home/agent';
const endpoint = { url: URL, token: TOKEN };
const agent = (name: string) => findAgent(name)!;
const AUTH = { Authorization: `Bearer ${TOKEN}` };

describe('MCP config formats', () => {
  it('claude-json: an http server with the bearer header', () => {
    const r = renderMcpConfig('claude-json', endpoint);
    expect(JSON.parse(r.text)).toEqual({ mcpServers: { corral: { type: 'http', url: URL, headers: AUTH } } });
    expect(r.env).toEqual({});
  });

  it('gemini-extension: an extension whose server uses httpUrl (streamable HTTP, not SSE)', () => {
    expect(JSON.parse(renderMcpConfig('gemini-extension', endpoint).text)).toEqual({
      name: 'corral',
      version: '1.0.0',
      mcpServers: { corral: { httpUrl: URL, headers: AUTH } },
    });
  });

  it('qwen-json: an --mcp-config file whose server uses httpUrl and is trusted', () => {
    expect(JSON.parse(renderMcpConfig('qwen-json', endpoint).text)).toEqual({
      mcpServers: { corral: { httpUrl: URL, headers: AUTH, trust: true } },
    });
  });

  it('opencode-json: a remote server without OAuth discovery', () => {
    expect(JSON.parse(renderMcpConfig('opencode-json', endpoint).text)).toEqual({
      mcp: { corral: { type: 'remote', url: URL, headers: AUTH, oauth: false, enabled: true } },
    });
  });

  it('copilot-json: an http server with every tool enabled', () => {
    expect(JSON.parse(renderMcpConfig('copilot-json', endpoint).text)).toEqual({
      mcpServers: { corral: { type: 'http', url: URL, headers: AUTH, tools: ['*'] } },
    });
  });

  it('codex-override: one -c value with the token in the environment, not in argv', () => {
    const r = renderMcpConfig('codex-override', endpoint);
    expect(r.text).toBe(`mcp_servers.corral={url="${URL}",bearer_token_env_var="${TOKEN_ENV}"}`);
    expect(r.text).not.toContain(TOKEN);
    expect(r.env).toEqual({ [TOKEN_ENV]: TOKEN });
  });

  it('vibe-json: the mcp_servers list with static header auth', () => {
    expect(JSON.parse(renderMcpConfig('vibe-json', endpoint).text)).toEqual([
      { name: 'corral', transport: 'streamable-http', url: URL, auth: { type: 'static', headers: AUTH } },
    ]);
  });

  it('escapes what it embeds', () => {
    const odd = { url: 'http://127.0.0.1:3129/m"cp', token: 'a"b\\c' };
    expect(JSON.parse(renderMcpConfig('claude-json', odd).text).mcpServers.corral.headers.Authorization).toBe(
      'Bearer a"b\\c',
    );
    expect(renderMcpConfig('codex-override', odd).text).toContain('url="http://127.0.0.1:3129/m\\"cp"');
  });
});

describe('merging into a file corral already writes', () => {
  it('JSON: objects merged, the existing keys kept', () => {
    const merged = mergeConfigText(
      JSON.stringify({
        security: { auth: { selectedType: 'gemini-api-key' } },
        mcpServers: { mine: { url: 'x' } },
      }),
      JSON.stringify({ mcpServers: { corral: { httpUrl: URL } } }),
      '.gemini/settings.json',
    );
    expect(JSON.parse(merged!)).toEqual({
      security: { auth: { selectedType: 'gemini-api-key' } },
      mcpServers: { mine: { url: 'x' }, corral: { httpUrl: URL } },
    });
  });

  it('TOML: the table appended after the existing text', () => {
    const base = 'model = "m"\n\n[model_providers.corral]\nname = "corral"\n';
    const table = '[mcp_servers.corral]\nurl = "u"\n';
    expect(mergeConfigText(base, table, '.codex/config.toml')).toBe(`${base}\n${table}`);
  });

  it('TOML: a table the file already defines is not defined twice', () => {
    const base = '[mcp_servers.corral]\nurl = "theirs"\n';
    expect(mergeConfigText(base, '[ mcp_servers.corral ]\nurl = "u"\n', 'a.toml')).toBeUndefined();
  });

  it('deepMerge: arrays and scalars from the second win', () => {
    expect(deepMerge({ a: [1], b: { c: 1, d: 2 } }, { a: [2], b: { c: 3 } })).toEqual({
      a: [2],
      b: { c: 3, d: 2 },
    });
  });
});

describe('wiring each agent', () => {
  it('every agent that speaks MCP over streamable HTTP has a recipe; the others say why not', () => {
    const withMcp = AGENTS.filter((a) => a.mcp).map((a) => a.name);
    expect(withMcp.sort()).toEqual([
      'claude',
      'codex',
      'copilot',
      'devstral',
      'gemini',
      'kilo',
      'opencode',
      'qwen',
    ]);
    for (const a of AGENTS.filter((x) => !x.mcp))
      expect(a.notes.join(' '), a.name).toMatch(/MCP|host bridge/);
  });

  it('never writes over a login, state or endpoint file', () => {
    for (const a of AGENTS.filter((x) => x.mcp?.file)) {
      const file = a.mcp!.file!;
      expect(a.statePaths, a.name).not.toContain(file);
      expect(a.hostSettings, a.name).not.toContain(file);
      expect(Object.keys(a.endpoint?.files ?? {}), a.name).not.toContain(file);
    }
    // The endpoint's own files pass through untouched.
    for (const a of AGENTS.filter((x) => x.mcp && x.endpoint)) {
      const files = renderEndpoint(a, { baseUrl: 'http://h:1', apiKey: 'k' }).files;
      const wired = wireMcp(a, endpoint, files, HOME)!;
      for (const [path, text] of Object.entries(files))
        expect(wired.files[path], `${a.name} ${path}`).toBe(text);
    }
  });

  it('claude: its own file, loaded with --mcp-config', () => {
    const w = wireMcp(agent('claude'), endpoint, {}, HOME)!;
    expect(w.args).toEqual(['--mcp-config', '/home/agent/.corral/mcp.json']);
    expect(JSON.parse(w.files['.corral/mcp.json']!).mcpServers.corral.headers).toEqual(AUTH);
    expect(w.env).toEqual({});
  });

  it('codex: a -c override and the token in env', () => {
    const w = wireMcp(agent('codex'), endpoint, {}, HOME)!;
    expect(w.args).toEqual(['-c', `mcp_servers.corral={url="${URL}",bearer_token_env_var="${TOKEN_ENV}"}`]);
    expect(w.env).toEqual({ [TOKEN_ENV]: TOKEN });
    expect(w.files).toEqual({});
  });

  it("gemini: an extension of corral's own, settings.json untouched", () => {
    const w = wireMcp(agent('gemini'), endpoint, { '.gemini/settings.json': '{"a":1}' }, HOME)!;
    expect(w.files['.gemini/settings.json']).toBe('{"a":1}');
    expect(JSON.parse(w.files['.gemini/extensions/corral/gemini-extension.json']!).mcpServers.corral).toEqual(
      {
        httpUrl: URL,
        headers: AUTH,
      },
    );
    expect(w.args).toEqual([]);
  });

  it('opencode: OPENCODE_CONFIG_CONTENT, no file', () => {
    const w = wireMcp(agent('opencode'), endpoint, {}, HOME)!;
    expect(JSON.parse(w.env.OPENCODE_CONFIG_CONTENT!).mcp.corral.url).toBe(URL);
    expect(w.files).toEqual({});
  });

  it('copilot: its own file, added for the session with --additional-mcp-config @file', () => {
    const w = wireMcp(agent('copilot'), endpoint, {}, HOME)!;
    expect(w.args).toEqual(['--additional-mcp-config', '@/home/agent/.corral/copilot-mcp.json']);
    expect(JSON.parse(w.files['.corral/copilot-mcp.json']!).mcpServers.corral.url).toBe(URL);
  });

  it('devstral (Vibe): VIBE_MCP_SERVERS, merged by name with config.toml', () => {
    const w = wireMcp(agent('devstral'), endpoint, {}, HOME)!;
    expect(JSON.parse(w.env.VIBE_MCP_SERVERS!)[0]).toMatchObject({ name: 'corral', url: URL });
  });

  it('agents without MCP over HTTP get nothing', () => {
    expect(wireMcp(agent('pi'), endpoint, {}, HOME)).toBeUndefined();
    expect(wireMcp(agent('auggie'), endpoint, {}, HOME)).toBeUndefined();
  });
});

describe('runs without the bridge', () => {
  it("remove a file the agent would find by itself (Gemini's extension, Copilot's instructions, Vibe's skill), nothing else", () => {
    expect(staleMcpCleanup(agent('gemini'))).toEqual([
      `rm -f "$HOME"/'.gemini/extensions/corral/gemini-extension.json'`,
      `rmdir "$HOME"/'.gemini/extensions/corral' 2>/dev/null || true`,
    ]);
    // Copilot reads corral's bridge instructions file by itself: it goes too.
    expect(staleMcpCleanup(agent('copilot'))).toEqual([
      `rm -f "$HOME"/'.copilot/instructions/corral-bridge.instructions.md'`,
    ]);
    // So does Vibe's skill, folder and all.
    expect(staleMcpCleanup(agent('devstral'))).toEqual([
      `rm -f "$HOME"/'.vibe/skills/corral-host-bridge/SKILL.md'`,
      `rmdir "$HOME"/'.vibe/skills/corral-host-bridge' 2>/dev/null || true`,
    ]);
    for (const name of ['claude', 'codex', 'opencode', 'pi'])
      expect(staleMcpCleanup(agent(name)), name).toEqual([]);
  });
});
