/** Every MCP format writer with the config's servers beside the bridge, and the run's MCP plan. */
import { describe, expect, it } from 'vitest';
import { findAgent } from '../../src/agents/index.js';
import { MCP_FORMATS, type McpServer } from '../../src/agents/mcp-formats.js';
import { renderMcpConfig, wireMcp } from '../../src/bridge/agent-config.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { planMcpServers } from '../../src/core/start/mcp.js';
import { modelEgress, sandboxModelUrl } from '../../src/core/start/support.js';

const bridge = { url: 'http://127.0.0.1:3129/mcp', token: 'tok' };
const docs: McpServer = {
  name: 'docs',
  transport: 'http',
  url: 'https://mcp.example.com/mcp',
  headers: { 'X-Team': 't', Authorization: 'Bearer ph' },
};
const notes: McpServer = {
  name: 'notes',
  transport: 'stdio',
  command: 'node',
  args: ['/opt/n.js', '--ro'],
  env: { NOTES_DIR: '/workspace/notes' },
};
const render = (format: keyof typeof MCP_FORMATS) => renderMcpConfig(format, bridge, [docs, notes]);

describe('MCP format writers with config servers', () => {
  it('claude-json', () => {
    expect(JSON.parse(render('claude-json').text).mcpServers).toEqual({
      corral: { type: 'http', url: bridge.url, headers: { Authorization: 'Bearer tok' } },
      docs: { type: 'http', url: docs.url, headers: docs.headers },
      notes: { type: 'stdio', command: 'node', args: ['/opt/n.js', '--ro'], env: notes.env },
    });
  });
  it('gemini-extension', () => {
    const j = JSON.parse(render('gemini-extension').text);
    expect(j.name).toBe('corral');
    expect(j.mcpServers.docs).toEqual({ httpUrl: docs.url, headers: docs.headers });
    expect(j.mcpServers.notes).toEqual({ command: 'node', args: ['/opt/n.js', '--ro'], env: notes.env });
  });
  it('qwen-json', () => {
    const j = JSON.parse(render('qwen-json').text).mcpServers;
    expect(j.docs).toEqual({ httpUrl: docs.url, headers: docs.headers, trust: true });
    expect(j.notes).toEqual({ command: 'node', args: ['/opt/n.js', '--ro'], env: notes.env, trust: true });
  });
  it('opencode-json', () => {
    const j = JSON.parse(render('opencode-json').text).mcp;
    expect(j.docs).toEqual({
      type: 'remote',
      url: docs.url,
      headers: docs.headers,
      oauth: false,
      enabled: true,
    });
    expect(j.notes).toEqual({
      type: 'local',
      command: ['node', '/opt/n.js', '--ro'],
      environment: notes.env,
      enabled: true,
    });
  });
  it('copilot-json', () => {
    const j = JSON.parse(render('copilot-json').text).mcpServers;
    expect(j.docs).toEqual({ type: 'http', url: docs.url, headers: docs.headers, tools: ['*'] });
    expect(j.notes).toEqual({
      type: 'local',
      command: 'node',
      args: ['/opt/n.js', '--ro'],
      env: notes.env,
      tools: ['*'],
    });
  });
  it('codex-override: one -c per server (TOML inline tables), the bridge token in the env', () => {
    const r = render('codex-override');
    expect(r.env).toEqual({ CORRAL_BRIDGE_TOKEN: 'tok' });
    expect(r.parts).toEqual([
      'mcp_servers.corral={url="http://127.0.0.1:3129/mcp",bearer_token_env_var="CORRAL_BRIDGE_TOKEN"}',
      'mcp_servers.docs={url="https://mcp.example.com/mcp",http_headers={"X-Team"="t","Authorization"="Bearer ph"}}',
      'mcp_servers.notes={command="node",args=["/opt/n.js","--ro"],env={"NOTES_DIR"="/workspace/notes"}}',
    ]);
    const wired = wireMcp(findAgent('codex')!, bridge, {}, '/home/agent', [docs, notes])!;
    expect(wired.args).toEqual(['-c', r.parts![0], '-c', r.parts![1], '-c', r.parts![2]]);
  });
  it('vibe-json', () => {
    const j = JSON.parse(render('vibe-json').text);
    expect(j.map((s: { name: string }) => s.name)).toEqual(['corral', 'docs', 'notes']);
    expect(j[1]).toEqual({
      name: 'docs',
      transport: 'streamable-http',
      url: docs.url,
      auth: { type: 'static', headers: docs.headers },
    });
    expect(j[2]).toEqual({
      name: 'notes',
      transport: 'stdio',
      command: 'node',
      args: ['/opt/n.js', '--ro'],
      env: notes.env,
    });
  });
  it('every format renders config servers without a bridge too', () => {
    for (const format of Object.keys(MCP_FORMATS) as (keyof typeof MCP_FORMATS)[]) {
      const text = renderMcpConfig(format, undefined, [notes]).text;
      expect(text, format).toContain('/opt/n.js');
      expect(text, format).not.toContain(bridge.url);
    }
  });
});

describe('the run plan of mcp_servers', () => {
  const config = ConfigSchema.parse({
    mcp_servers: {
      docs: {
        url: 'http://127.0.0.1:8123/mcp',
        headers: { 'X-Team': 't' },
        secret_headers: { Authorization: 'TOK', 'X-Key': 'KEY' },
      },
      remote: { url: 'https://mcp.example.com/mcp' },
      notes: { command: 'node', args: ['/opt/n.js'] },
    },
  });
  it('puts placeholders in the config and the real values in credentials for the sandbox-side host', () => {
    const plan = planMcpServers(
      config,
      { TOK: 'S3cretTokenOne', KEY: 'S3cretKeyTwo' },
      'gateway',
      'host.containers.internal',
      () => {},
    );
    const d = plan.servers.find((s) => s.name === 'docs') as Extract<McpServer, { transport: 'http' }>;
    expect(d.url).toBe('http://host.containers.internal:8123/mcp');
    expect(JSON.stringify(plan.servers)).not.toContain('S3cret');
    expect(plan.credentials).toEqual([
      {
        host: 'host.containers.internal',
        header: 'authorization',
        value: 'S3cretTokenOne',
        placeholder: d.headers.Authorization!.slice(7),
        plain: true,
      },
      {
        host: 'host.containers.internal',
        header: 'x-key',
        value: 'S3cretKeyTwo',
        placeholder: d.headers['X-Key'],
        plain: true,
      },
    ]);
    expect(plan.servers.map((s) => s.name)).toEqual(['docs', 'remote', 'notes']);
  });
  it('leaves secret-header servers out without the gateway, and names a missing env var', () => {
    const notes: string[] = [];
    const plan = planMcpServers(config, { TOK: 'a', KEY: 'b' }, 'open', 'x', (l) => notes.push(l));
    expect(plan.servers.map((s) => s.name)).toEqual(['remote', 'notes']);
    expect(notes.join()).toMatch(/docs left out/);
    expect(() => planMcpServers(config, { TOK: 'a' }, 'gateway', 'x', () => {})).toThrow(
      /mcp_servers\.docs\.secret_headers\.X-Key names KEY, which is not set/,
    );
  });
  it('never sends a secret header in clear across a network', () => {
    const lan = ConfigSchema.parse({
      mcp_servers: { d: { url: 'http://192.0.2.9:80/mcp', secret_headers: { 'X-Key': 'K' } } },
    });
    expect(() => planMcpServers(lan, { K: 'v' }, 'gateway', 'x', () => {})).toThrow(
      /mcp_servers\.d\.url is plain http/,
    );
  });
  it('validation names the key and what it expects', () => {
    const issues = (v: unknown) =>
      ConfigSchema.safeParse({ mcp_servers: v }).error?.issues.map(
        (i) => `${i.path.join('.')}: ${i.message}`,
      );
    expect(issues({ a: { url: 'http://x', command: 'y' } })).toEqual([
      'mcp_servers.a: expected either url (a remote server) or command (a stdio server in the sandbox), not both or neither',
    ]);
    expect(issues({ corral: { command: 'y' } })?.[0]).toMatch(
      /mcp_servers.corral: "corral" is the host bridge's name/,
    );
    expect(issues({ a: { url: 'ftp://x' } })?.[0]).toMatch(/mcp_servers.a.url: an http\(s\) URL/);
    expect(issues({ a: { command: 'y', headers: { A: 'b' } } })?.[0]).toMatch(
      /headers and secret_headers belong to a url server/,
    );
  });
});

describe('model and MCP URLs through the gateway', () => {
  it('lets a port on the host through as a host port, anything else as host:port', () => {
    expect(modelEgress('http://127.0.0.1:8080')).toEqual({ hostPort: 8080 });
    expect(modelEgress('http://host.docker.internal:11434/v1')).toEqual({ hostPort: 11434 });
    expect(modelEgress('http://192.0.2.7:11434')).toEqual({ allow: '192.0.2.7:11434' });
    expect(modelEgress('https://api.example.com/v1')).toEqual({ allow: 'api.example.com:443' });
    expect(sandboxModelUrl('http://localhost:9/v1', 'host.containers.internal')).toBe(
      'http://host.containers.internal:9/v1',
    );
  });
});
