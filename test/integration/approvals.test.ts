/**
 * The bridge of a DETACHED run (`corral run -d`), on both engines: a host process of its own owns
 * the session's socket and token; a request to run an unapproved command waits in `corral
 * approvals` until the test answers it there, or is refused when nobody answers in time; and
 * `corral stop` leaves no bridge process and no socket behind.
 *
 * The sandbox is real Claude Code, kept busy by the scripted model (a long-running command in the sandbox)
 * so that the test, holding the session's token as the sandbox does, calls the bridge itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeState } from '../../src/bridge/session-state.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { buildEchoImage } from '../helpers/services.js';

// Long enough for two `corral` processes on a loaded 2-CPU CI machine to list and answer (6 s was not).
const APPROVAL_TIMEOUT_S = 20;

async function eventually<T>(get: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

for (const kind of TEST_ENGINES) {
  describe(`approvals for a detached run on ${kind}`, () => {
    let home: string;
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let server: ModelServer;
    let state: BridgeState;
    let client: Client;
    let agent: Agent;

    const echoImage = `localhost/corral-test-echo:appr${process.pid}`;
    const call = async (command: string) => {
      const res = await client.callTool({ name: 'run_command', arguments: { command } }, undefined, {
        timeout: 60_000,
      });
      const text = (res.content as Array<{ text: string }>)[0]!.text;
      return { isError: res.isError === true, value: JSON.parse(text) as Record<string, unknown> };
    };
    const pending = async () => {
      const r = await corral(['approvals', '--json'], { cwd: ws, env });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Array<{ id: string; kind: string; details: { command?: string } }>;
    };

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-approvals-')));
      ws = join(home, 'ws');
      await mkdir(ws);
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(home, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        CORRAL_APPROVAL_TIMEOUT: String(APPROVAL_TIMEOUT_S),
      };
      // Keeps the sandbox busy (a command that waits; Claude Code runs a plain `sleep` in the background) while the test talks to its bridge.
      const script = await parseScript(
        [
          'turns:',
          '  - tool: Bash',
          '    input: {"command": "timeout 300 tail -f /dev/null"}',
          '  - text: Done.',
          '',
        ].join('\n'),
        'approvals test script',
      );
      server = await startModelServer({ host: '0.0.0.0', script, allow: isLocalOrContainerAddress });
      const r = await corral(
        ['run', 'claude', '-d', '--model-url', server.url, '--yolo', '--prompt', 'Wait.'],
        { cwd: ws, env },
      );
      expect(r.code, r.stderr).toBe(0);
      state = await eventually(async () => {
        const names = await readdir(join(home, 'data', 'bridges')).catch(() => []);
        const f = names.find((n) => n.endsWith('.json'));
        return f
          ? (JSON.parse(await readFile(join(home, 'data', 'bridges', f), 'utf8')) as BridgeState)
          : undefined;
      }, 'the bridge state file');
      // The token, read where the agent reads it: the MCP config corral wrote into the sandbox.
      const cat = await corral(['exec', 'claude', '--', 'sh', '-c', 'cat "$HOME/.corral/mcp.json"'], {
        cwd: ws,
        env,
      });
      expect(cat.code, cat.stderr).toBe(0);
      const token = /Bearer ([0-9a-f]+)/.exec(cat.stdout)?.[1];
      expect(token).toBeDefined();
      agent = new Agent({ connect: { socketPath: state.socket! } });
      const fetchVia: FetchLike = ((url: string | URL, init?: RequestInit) =>
        undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
      client = new Client({ name: 'approvals-test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('http://corral-bridge/mcp'), {
          fetch: fetchVia,
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
    });

    afterAll(async () => {
      await client?.close().catch(() => {});
      await agent?.close().catch(() => {});
      await server?.close();
      if (ws) await corral(['clean'], { cwd: ws, env });
    });

    it('runs its own process, apart from `corral run`, that owns the socket', () => {
      expect(state.pid).toBeGreaterThan(0);
      expect(processGone(state.pid!)).toBe(false);
      expect(existsSync(state.socket!)).toBe(true);
    });

    it('an unapproved command waits in `corral approvals` until allowed there', async () => {
      const asked = call('echo approved-on-the-host > approved.txt');
      const [p] = await eventually(async () => {
        const list = await pending();
        return list.length ? list : undefined;
      }, 'a pending approval');
      expect(p!.kind).toBe('command');
      expect(p!.details.command).toBe('echo approved-on-the-host > approved.txt');
      expect(existsSync(join(ws, 'approved.txt'))).toBe(false);
      const allow = await corral(['approvals', 'allow', p!.id], { cwd: ws, env });
      expect(allow.code, allow.stderr).toBe(0);
      const out = await asked;
      expect(out.isError).toBe(false);
      expect(out.value.exit_code).toBe(0);
      expect(await readFile(join(ws, 'approved.txt'), 'utf8')).toBe('approved-on-the-host\n');
      // Answered once: a second answer is refused, and nothing is left waiting.
      expect((await corral(['approvals', 'deny', p!.id], { cwd: ws, env })).code).toBe(1);
      expect(await pending()).toEqual([]);
    });

    it('refuses when nobody answers in time', async () => {
      const started = Date.now();
      const out = await call('echo never > never.txt');
      expect(out.isError).toBe(true);
      expect(out.value).toMatchObject({ status: 'refused', reason: 'not approved (no answer in time)' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_S * 1000 - 500);
      expect(existsSync(join(ws, 'never.txt'))).toBe(false);
      expect(await pending()).toEqual([]);
    });

    it('`corral list` shows the last notification (the approval it asked for)', async () => {
      const r = await corral(['list', '--json'], { cwd: ws, env });
      const mine = (
        JSON.parse(r.stdout) as Array<{ session: string; lastNotification: { title: string } | null }>
      ).find((s) => s.session === state.session);
      expect(mine?.lastNotification?.title).toBe('claude asks for approval');
    });

    it('starts a service the agent asks for, which goes when the run stops', async () => {
      const engine = await engineFor(kind);
      await buildEchoImage(engine, echoImage);
      const allowed = await corral(['allowed', 'add', `service:${echoImage}`], { cwd: ws, env });
      expect(allowed.code, allowed.stderr).toBe(0);
      const res = await client.callTool({
        name: 'start_service',
        arguments: { image: echoImage, name: 'echo' },
      });
      expect(res.isError, JSON.stringify(res.content)).not.toBe(true);
      const listed = await corral(['services', 'list', '--json'], { cwd: ws, env });
      expect(JSON.parse(listed.stdout) as Array<{ name: string; session: string }>).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'echo', session: state.session })]),
      );
    });

    it('is gone after `corral stop`: no process, no socket', async () => {
      const r = await corral(['stop', 'claude'], { cwd: ws, env });
      expect(r.code, r.stderr).toBe(0);
      await eventually(
        async () => (processGone(state.pid!) ? true : undefined),
        'the bridge process to exit',
      );
      expect(existsSync(state.socket!)).toBe(false);
      const after = JSON.parse(
        await readFile(join(home, 'data', 'bridges', `${state.session}.json`), 'utf8'),
      ) as BridgeState;
      // The pid stays in the state (`corral clean` waits on it); the process itself is gone (above).
      expect(after.ended).toBeGreaterThan(0);
      expect(after.lastNotification?.title).toBe('claude finished');
      // The session's service went with it.
      const engine = await engineFor(kind);
      await eventually(
        async () =>
          (await engine.list({ labels: ['io.corral.role=service'], all: true })).some(
            (c) => c.name.endsWith('-svc-echo') && c.labels['io.corral.session'] === state.session,
          )
            ? undefined
            : true,
        'the service to be removed',
      );
      await engine.removeImage(echoImage).catch(() => {});
    });
  });
}

describe('the detached bridge process', () => {
  let home: string;
  const saved = process.env.CORRAL_DATA_DIR;
  beforeAll(async () => {
    home = await realpath(await mkdtemp(join(tmpdir(), 'corral-bridge-proc-')));
    await mkdir(join(home, 'ws'));
    await mkdir(join(home, 'sock'));
    process.env.CORRAL_DATA_DIR = join(home, 'data');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CORRAL_DATA_DIR;
    else process.env.CORRAL_DATA_DIR = saved;
  });
  const config = (session: string, socketPath: string) => ({
    workspace: join(home, 'ws'),
    session,
    tokenSha256: randomBytes(32).toString('hex'),
    socketPath,
    agent: 'claude',
    container: 'corral-test-none',
    engine: 'unix:///nonexistent.sock',
    approvalTimeoutMs: 1000,
  });

  it('ends, removing its socket, when the run gives up before the sandbox starts', async () => {
    const { spawnBridgeDaemon } = await import('../../src/bridge/daemon-spawn.js');
    const socket = join(home, 'sock', 'b1.sock');
    const d = await spawnBridgeDaemon(config('sess-abort', socket));
    await d.ready;
    expect(existsSync(socket)).toBe(true);
    expect(processGone(d.pid)).toBe(false);
    d.abort();
    await eventually(async () => (processGone(d.pid) ? true : undefined), 'the bridge process to exit');
    expect(existsSync(socket)).toBe(false);
  });

  it('fails clearly, and is gone, when it cannot listen', async () => {
    const { spawnBridgeDaemon } = await import('../../src/bridge/daemon-spawn.js');
    const d = await spawnBridgeDaemon(config('sess-fail', join(home, 'missing', 'b2.sock')));
    await expect(d.ready).rejects.toThrow(/host bridge for this detached run did not start/);
    await eventually(async () => (processGone(d.pid) ? true : undefined), 'the bridge process to exit');
  });
});
