/**
 * An editor over ACP: the real ACP client library (@agentclientprotocol/sdk) drives `corral acp
 * qwen` (Qwen Code's native ACP server in a sandbox behind the gateway, pointed at the scripted
 * model). Initialize, a new session on the editor's host path, a prompt whose shell tool writes a
 * file (content, owner, and the sandbox path it ran in), permission asked through ACP, cancel
 * mid-turn, and the editor disconnecting stops the sandbox.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { BIN, corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

interface Editor {
  child: ChildProcess;
  conn: acp.ClientConnection;
  updates: acp.SessionNotification[];
  permissions: acp.RequestPermissionRequest[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function startEditor(ws: string, modelUrl: string, env: NodeJS.ProcessEnv, agent = 'qwen'): Editor {
  const child = spawn(
    process.execPath,
    [BIN, 'acp', agent, '--model-url', modelUrl, '--network', 'gateway'],
    {
      cwd: ws,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const updates: acp.SessionNotification[] = [];
  const permissions: acp.RequestPermissionRequest[] = [];
  const app = acp
    .client({ name: 'corral-e2e-editor' })
    .onRequest(acp.methods.client.session.requestPermission, ({ params }) => {
      permissions.push(params);
      const allow = params.options.find((o) => o.kind === 'allow_once') ?? params.options[0]!;
      return { outcome: { outcome: 'selected', optionId: allow.optionId } };
    })
    .onNotification(acp.methods.client.session.update, ({ params }) => {
      updates.push(params);
    });
  const conn = app.connect(
    acp.ndJsonStream(
      Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>,
      Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>,
    ),
  );
  return { child, conn, updates, permissions, stderr: () => err, exited };
}

async function openSession(editor: Editor, ws: string): Promise<string> {
  const init = await editor.conn.agent.request('initialize', {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: {},
  });
  expect(init.protocolVersion).toBe(acp.PROTOCOL_VERSION);
  // The editor names its own (host) folder; the agent gets /workspace.
  const session = await editor.conn.agent.request('session/new', { cwd: ws, mcpServers: [] });
  expect(session.sessionId).toBeTruthy();
  return session.sessionId;
}

async function sandboxesOf(kind: string, ws: string): Promise<string[]> {
  const r = await new Promise<string>((resolve) => {
    const p = spawn(kind, [
      'ps',
      '-a',
      '--format',
      '{{.Names}}',
      '--filter',
      `name=corral-${workspaceIdOf(ws)}`,
    ]);
    let out = '';
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    p.on('close', () => resolve(out));
  });
  return r.split('\n').filter((n) => n.includes('-acp-'));
}

for (const kind of TEST_ENGINES) {
  describe(`ACP editor session on ${kind}`, () => {
    let writer: ModelServer;
    let sleeper: ModelServer;
    let bridger: ModelServer;
    const marker = `acp-${kind}-${Date.now()}`;
    const env = { CORRAL_ENGINE: kind };

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'qwen');
      await agentImage(await engineFor(kind), 'claude');
      const serve = async (yaml: string) =>
        startModelServer({
          host: '0.0.0.0',
          script: await parseScript(yaml, 'acp script'),
          allow: isLocalOrContainerAddress,
        });
      writer = await serve(
        `turns:\n  - say: Writing.\n    run: id -u | sed "s/^/${marker} from /" > result.txt; pwd >> result.txt\n  - text: Done.\n`,
      );
      sleeper = await serve(
        'turns:\n  - say: Waiting.\n    run: "sleep 120  # intentional-sleep: the test cancels the turn meanwhile"\n  - text: Done.\n',
      );
      // A host command through corral's bridge (Qwen Code's MCP client): nobody allowed it, so
      // corral asks the editor.
      bridger = await serve(
        // A shell step first: Qwen Code connects to MCP servers in the background, so the bridge's
        // tool may not be there for the very first model call of a new session.
        'turns:\n  - run: "true"\n  - tool: mcp__corral__run_command\n    input: {command: "echo made-on-the-host > host-made.txt"}\n  - text: Done.\n',
      );
    });

    afterAll(async () => {
      await writer?.close();
      await sleeper?.close();
      await bridger?.close();
    });

    it('asks the editor (session/request_permission) before a host command, and runs it once allowed', async () => {
      const ws = await realpath(await tempWorkspace('corral-acp-bridge-'));
      const editor = startEditor(ws, bridger.url, env);
      try {
        const sessionId = await openSession(editor, ws);
        const r = await editor.conn.agent.request('session/prompt', {
          sessionId,
          prompt: [{ type: 'text', text: 'Make the file on the host.' }],
        });
        if (r.stopReason !== 'end_turn') console.error(editor.stderr());
        expect(r.stopReason).toBe('end_turn');
        const ours = editor.permissions.filter((p) => p.toolCall.toolCallId.startsWith('corral-approval-'));
        if (ours.length !== 1) console.error(editor.stderr(), JSON.stringify(editor.updates).slice(0, 4000));
        expect(ours).toHaveLength(1);
        expect(ours[0]!.sessionId).toBe(sessionId);
        expect(ours[0]!.toolCall.title).toContain('echo made-on-the-host > host-made.txt');
        expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
      } finally {
        editor.child.stdin!.end();
        await editor.exited;
        await corral(['clean'], { cwd: ws, env });
      }
    });

    // Qwen Code's own ACP server, and Claude Code through Zed's adapter layered onto its image.
    it.each(['qwen', 'claude'])(
      '%s: initializes, opens a session on the host path, and the prompt writes a file through the agent',
      async (agent) => {
        const ws = await realpath(await tempWorkspace(`corral-acp-${agent}-`));
        await writeFile(join(ws, 'README.md'), '# acp\n');
        const editor = startEditor(ws, writer.url, env, agent);
        try {
          const sessionId = await openSession(editor, ws);
          const r = await editor.conn.agent.request('session/prompt', {
            sessionId,
            prompt: [{ type: 'text', text: 'Write result.txt as instructed.' }],
          });
          if (r.stopReason !== 'end_turn') console.error(editor.stderr());
          expect(r.stopReason).toBe('end_turn');
          // Run as the sandbox user in /workspace; owned by the host user outside.
          expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(`${marker} from 1000\n/workspace\n`);
          // Nothing the editor saw names the sandbox's path: it is mapped back to the host's.
          const seen = JSON.stringify([editor.updates, editor.permissions]);
          expect(seen).not.toContain('"/workspace');
          expect(editor.updates.some((u) => u.update.sessionUpdate === 'tool_call')).toBe(true);
          expect(writer.requests.length).toBeGreaterThan(0);
          // The session ends; the file belongs to the host user (Docker with a root host hands the
          // sandbox user's files back when the session ends: sandbox/ownership.ts).
          editor.child.stdin!.end();
          await editor.exited;
          expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());
        } finally {
          editor.child.stdin!.end();
          await editor.exited;
          await corral(['clean'], { cwd: ws, env });
        }
      },
    );

    it('cancels a turn in flight, and stops the sandbox when the editor disconnects', async () => {
      const ws = await realpath(await tempWorkspace('corral-acp-cancel-'));
      const editor = startEditor(ws, sleeper.url, env);
      try {
        const sessionId = await openSession(editor, ws);
        const turn = editor.conn.agent.request('session/prompt', {
          sessionId,
          prompt: [{ type: 'text', text: 'Wait.' }],
        });
        // Mid-turn: the agent has called its `sleep 120` tool; a moment later it is running it.
        const called = () => editor.updates.some((u) => u.update.sessionUpdate === 'tool_call');
        const deadline = Date.now() + 60_000;
        while (!called() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(called()).toBe(true);
        await new Promise((r) => setTimeout(r, 1500));
        const asked = Date.now();
        await editor.conn.agent.notify('session/cancel', { sessionId });
        const stopped = await turn;
        if (stopped.stopReason !== 'cancelled') console.error(JSON.stringify(editor.updates).slice(0, 4000));
        expect(stopped.stopReason).toBe('cancelled');
        expect(Date.now() - asked).toBeLessThan(15_000);
        expect(await sandboxesOf(kind, ws)).toHaveLength(1);
        // The editor goes away: corral ends and its sandbox is gone.
        const left = Date.now();
        editor.child.stdin!.end();
        expect(await editor.exited).not.toBeNull();
        expect(Date.now() - left).toBeLessThan(20_000);
        expect(await sandboxesOf(kind, ws)).toEqual([]);
      } finally {
        editor.child.kill('SIGKILL');
        await corral(['clean'], { cwd: ws, env });
      }
    });

    it('answers the editor with a JSON-RPC error when the credential scan refuses the start', async () => {
      const ws = await realpath(await tempWorkspace('corral-acp-scan-'));
      const secret = Array.from({ length: 40 }, (_, i) => 'aB3xY9qZ'[(i * 7 + 3) % 8]).join('') + Date.now();
      await writeFile(join(ws, '.env'), `API_KEY=${secret}\n`);
      const editor = startEditor(ws, writer.url, env);
      try {
        const started = Date.now();
        const err = await editor.conn.agent
          .request('initialize', { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {} })
          .then(() => undefined)
          .catch((e: acp.RequestError) => e);
        expect(err).toBeDefined();
        expect(err!.message).toMatch(/Not starting: 1 possible credential/);
        expect(JSON.stringify(err)).toContain('corral scan --allow');
        expect(JSON.stringify(err) + editor.stderr()).not.toContain(secret);
        expect(
          await Promise.race([
            editor.exited,
            new Promise((r) => setTimeout(() => r('still running'), 20_000)),
          ]),
        ).toBe(1);
        expect(Date.now() - started).toBeLessThan(20_000);
      } finally {
        editor.child.kill('SIGKILL');
      }
    });
  });
}
