/**
 * MCP servers from config, end to end: a test-owned remote MCP server on the host (streamable
 * HTTP, accepting only the real secret in its Authorization header) is listed in the global config
 * with that header as a secret, beside a stdio server. Real Claude Code in a sandbox behind the
 * gateway calls the remote server's tool (the gateway injects the secret), and a scan from inside
 * the sandbox, run by the agent's shell tool, finds the secret nowhere, while its MCP config lists
 * both servers and the host bridge.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

interface Seen {
  authorization: string | undefined;
  team: string | undefined;
}

/** A remote MCP server with one tool, `lookup`, answering only requests that carry `secret`. */
async function remoteMcp(
  secret: string,
): Promise<{ server: Server; port: number; seen: Seen[]; calls: string[] }> {
  const seen: Seen[] = [];
  const calls: string[] = [];
  const server = createServer((req, res) => {
    seen.push({
      authorization: req.headers.authorization,
      team: req.headers['x-team'] as string | undefined,
    });
    if (req.headers.authorization !== `Bearer ${secret}`) {
      req.resume();
      res.writeHead(401).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const mcp = new McpServer({ name: 'docs', version: '1' }, { capabilities: { tools: {} } });
    mcp.registerTool(
      'lookup',
      { description: 'Look a word up in the team docs.', inputSchema: { word: z.string() } },
      async ({ word }) => {
        calls.push(word);
        return { content: [{ type: 'text', text: `docs-answer-for-${word}` }] };
      },
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.once('close', () => {
      void transport.close().catch(() => {});
      void mcp.close().catch(() => {});
    });
    void mcp
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  // On all addresses: the sandbox reaches it through the engine's host alias, via the gateway.
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen, calls };
}

for (const kind of TEST_ENGINES) {
  describe(`MCP servers from config on ${kind}`, () => {
    const secret = `mcp-secret-${kind}-${randomUUID()}`;
    const word = `w${Date.now()}`;
    let remote: Awaited<ReturnType<typeof remoteMcp>>;
    let model: ModelServer;
    let dir: string;
    let configPath: string;

    beforeAll(async () => {
      remote = await remoteMcp(secret);
      dir = await mkdtemp(join(tmpdir(), 'corral-mcp-e2e-'));
      configPath = join(dir, 'config.yaml');
      await writeFile(
        configPath,
        [
          'mcp_servers:',
          '  docs:',
          `    url: http://127.0.0.1:${remote.port}/mcp`,
          '    headers: { X-Team: corral-e2e }',
          '    secret_headers: { Authorization: DOCS_TOKEN }',
          '  notes:',
          '    command: node',
          '    args: [/opt/notes-mcp.js, --read-only]',
          '    env: { NOTES_DIR: /workspace/notes }',
          '',
        ].join('\n'),
      );
      // The secret split in two, so the scanning command's own argv does not match itself;
      // /bin/grep, since Claude Code's shell tool turns `grep` into its ripgrep, which skips /proc.
      const needle = `"$(printf '%s%s' '${secret.slice(0, 12)}' '${secret.slice(12)}')"`;
      const scan = `/bin/grep -rlF -e ${needle} /proc/[0-9]*/environ /proc/[0-9]*/cmdline $HOME /tmp /run/corral /workspace /etc 2>/dev/null > leaks.txt; cp $HOME/.corral/mcp.json mcp-config.json`;
      const script = await parseScript(
        [
          'turns:',
          '  - tool: mcp__docs__lookup',
          `    input: { word: ${word} }`,
          `  - run: ${JSON.stringify(scan)}`,
          '  - text: Looked it up.',
          '',
        ].join('\n'),
        'mcp script',
      );
      model = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
    });

    afterAll(async () => {
      await model?.close();
      remote?.server.closeAllConnections();
      await new Promise((r) => remote?.server.close(r));
      await rm(dir, { recursive: true, force: true });
    });

    it('lists the servers, naming where a secret header comes from but never its value', async () => {
      const r = await corral(['--config', configPath, 'mcp', 'list', '--json'], {
        env: { DOCS_TOKEN: secret },
      });
      expect(r.code, r.stderr).toBe(0);
      const listing = JSON.parse(r.stdout);
      expect(listing.servers.map((s: { name: string }) => s.name)).toEqual(['corral', 'docs', 'notes']);
      expect(listing.servers[1].secretHeaders).toEqual({ Authorization: 'DOCS_TOKEN' });
      expect(listing.servers[2].command).toEqual(['node', '/opt/notes-mcp.js', '--read-only']);
      expect(r.stdout).not.toContain(secret);
    });

    it('claude calls the remote server through the gateway, which injects the secret the sandbox never sees', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await realpath(await tempWorkspace('corral-mcp-claude-'));
      const env = { CORRAL_ENGINE: kind, DOCS_TOKEN: secret };
      const before = remote.seen.length;
      try {
        const r = await corral(
          [
            '--config',
            configPath,
            'run',
            'claude',
            '--network',
            'gateway',
            '--model-url',
            model.url,
            '--prompt',
            'Look it up.',
            '--yolo',
          ],
          { cwd: ws, env },
        );
        if (r.code !== 0) console.error(r.stdout, r.stderr, model.requests);
        expect(r.code).toBe(0);
        // The tool ran on the remote server, and its answer reached the model.
        expect(remote.calls).toContain(word);
        expect(model.requests.some((q) => q.body?.includes(`docs-answer-for-${word}`))).toBe(true);
        // Every request the remote server got carried the real secret (injected) and the plain header.
        const got = remote.seen.slice(before);
        expect(got.length).toBeGreaterThan(0);
        for (const s of got) expect(s).toEqual({ authorization: `Bearer ${secret}`, team: 'corral-e2e' });
        // Inside: no process env or argv, no file in home, /tmp, /etc or the workspace held it…
        expect(await readFile(join(ws, 'leaks.txt'), 'utf8')).toBe('');
        // …and Claude's MCP config lists the bridge, the remote server (placeholder, host alias) and the stdio one.
        const config = JSON.parse(await readFile(join(ws, 'mcp-config.json'), 'utf8'));
        expect(Object.keys(config.mcpServers)).toEqual(['corral', 'docs', 'notes']);
        expect(config.mcpServers.docs.url).toMatch(
          new RegExp(`^http://host\\.(containers|docker)\\.internal:${remote.port}/mcp$`),
        );
        expect(config.mcpServers.docs.headers['X-Team']).toBe('corral-e2e');
        expect(config.mcpServers.docs.headers.Authorization).toMatch(/^Bearer [a-z-]*corral[0-9a-f]{24}/);
        expect(config.mcpServers.notes).toEqual({
          type: 'stdio',
          command: 'node',
          args: ['/opt/notes-mcp.js', '--read-only'],
          env: { NOTES_DIR: '/workspace/notes' },
        });
        expect(r.stdout + r.stderr).not.toContain(secret);
      } finally {
        await corral(['clean'], { cwd: ws, env });
      }
    }, 600_000);
  });
}
