/**
 * Detached runs' host bridges served by the daemon (core/bridge-host.ts), on both engines: two
 * workspaces, A and B, each with a detached Claude Code kept busy by the scripted model, both
 * started from the CLI while a daemon runs. No bridge process is started; each session keeps its own
 * socket, token, commands, approvals and files, and sandbox A cannot reach B's through the process
 * they share. The daemon stopped, or killed, and started again serves both sessions again; a
 * sandbox that exits ends its session.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinementAvailable } from '../../src/bridge/confine.js';
import type { BridgeState } from '../../src/bridge/session-state.js';
import { daemonRequest } from '../../src/core/daemon-client.js';
import { daemonPaths } from '../../src/core/daemon-paths.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { socketAccepts } from '../../src/socket.js';
import { corral } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const APPROVAL_TIMEOUT_S = 30;

async function eventually<T>(get: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Out = { isError: boolean; value: Record<string, unknown>; text: string };

/** One workspace's run: its folder, its bridge state and an MCP client holding its token. */
interface Run {
  ws: string;
  token: string;
  state: BridgeState;
  agent: Agent;
  client: Client;
}

/**
 * Whether any thread of the process still runs. The leader shows as a zombie while the other
 * threads are still exiting, and they keep the process's files (its listening sockets) open until
 * the last one is gone: seen under load, a killed daemon's socket accepting for a moment.
 */
const pidAlive = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/task`).some((t) => {
      try {
        return !/^[ZX]/.test(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
};

/** Processes carrying this test's data folder that serve a bridge of their own. */
const bridgeProcesses = (dataDir: string): number[] =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('bridge serve'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`CORRAL_DATA_DIR=${dataDir}\0`);
      } catch {
        return false;
      }
    });

for (const kind of TEST_ENGINES) {
  describe(`detached runs' bridges served by the daemon on ${kind}`, () => {
    let home: string;
    let env: NodeJS.ProcessEnv;
    let d: TestDaemon;
    let server: ModelServer;
    const runs: Record<'a' | 'b', Run> = {} as never;

    const daemonPid = async () =>
      (JSON.parse(await readFile(join(d.dir, 'daemon.json'), 'utf8')) as { pid: number }).pid;
    const inSandbox = (r: Run, script: string) =>
      corral(['exec', 'claude', '--', 'sh', '-c', script], { cwd: r.ws, env });
    const stateOf = async (r: Run) =>
      JSON.parse(
        await readFile(join(home, 'data', 'bridges', `${r.state.session}.json`), 'utf8'),
      ) as BridgeState;

    async function connect(r: Run, token = r.token): Promise<Client> {
      const fetchVia: FetchLike = ((url: string | URL, init?: RequestInit) =>
        undiciFetch(url, { ...(init as object), dispatcher: r.agent })) as unknown as FetchLike;
      const client = new Client({ name: 'bridge-host-test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('http://corral-bridge/mcp'), {
          fetch: fetchVia,
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    }
    const call = async (r: Run, name: string, args: Record<string, unknown>): Promise<Out> => {
      const res = await r.client.callTool({ name, arguments: args }, undefined, { timeout: 90_000 });
      const text = (res.content as Array<{ text: string }>)[0]!.text;
      let value: Record<string, unknown> = {};
      try {
        value = JSON.parse(text) as Record<string, unknown>;
      } catch {}
      return { isError: res.isError === true, value, text };
    };
    const pending = async (r: Run) => {
      const out = await corral(['approvals', '--json', '-w', r.ws], { cwd: r.ws, env });
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as Array<{ id: string; session: string; details: { command?: string } }>;
    };

    async function start(name: 'a' | 'b'): Promise<Run> {
      const ws = join(home, name);
      await mkdir(ws);
      await writeFile(join(ws, `${name}-secret.txt`), `secret-of-${name}\n`);
      for (const p of ['echo*', 'cat*']) {
        const r = await corral(['allowed', 'add', p], { cwd: ws, env });
        expect(r.code, r.stderr).toBe(0);
      }
      const before = new Set(await readdir(join(home, 'data', 'bridges')).catch(() => [] as string[]));
      const r = await corral(
        ['run', 'claude', '-d', '--model-url', server.url, '--yolo', '--prompt', 'Wait.'],
        { cwd: ws, env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/did not take this run's host bridge/);
      const state = await eventually(async () => {
        const names = await readdir(join(home, 'data', 'bridges')).catch(() => [] as string[]);
        const f = names.find((n) => n.endsWith('.json') && !before.has(n));
        return f
          ? (JSON.parse(await readFile(join(home, 'data', 'bridges', f), 'utf8')) as BridgeState)
          : undefined;
      }, `${name}'s bridge state`);
      const cat = await corral(['exec', 'claude', '--', 'cat', '/home/agent/.corral/mcp.json'], {
        cwd: ws,
        env,
      });
      expect(cat.code, cat.stderr).toBe(0);
      const token = /Bearer ([0-9a-f]+)/.exec(cat.stdout)?.[1];
      expect(token).toBeDefined();
      const run: Run = {
        ws,
        token: token!,
        state,
        agent: new Agent({ connect: { socketPath: state.socket! } }),
        client: undefined as never,
      };
      run.client = await connect(run);
      return run;
    }

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-bridge-host-')));
      // The warm pool off: only the bridges are under test (a run and the pool's refill creating
      // the same home volume at once can fail on Podman, a race of the pool's own).
      await writeFile(join(home, 'config.yaml'), 'daemon:\n  warm_pool: 0\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(home, 'data'),
        CORRAL_CONFIG: join(home, 'config.yaml'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        CORRAL_APPROVAL_TIMEOUT: String(APPROVAL_TIMEOUT_S),
      };
      d = await startTestDaemon(env);
      env = d.env;
      const script = await parseScript(
        [
          'turns:',
          '  - tool: Bash',
          '    input: {"command": "timeout 600 tail -f /dev/null"}',
          '  - text: Done.',
          '',
        ].join('\n'),
        'bridge host script',
      );
      server = await startModelServer({ host: '0.0.0.0', script, allow: isLocalOrContainerAddress });
      runs.a = await start('a');
      runs.b = await start('b');
    }, 600_000);

    afterAll(async () => {
      for (const r of Object.values(runs)) {
        await r.client?.close().catch(() => {});
        await r.agent?.close().catch(() => {});
      }
      await server?.close();
      for (const r of Object.values(runs)) await corral(['clean'], { cwd: r.ws, env });
      await d?.stop();
    });

    it('serves both runs in the daemon: no bridge process; the state holds the token digest, never the token', async () => {
      const pid = await daemonPid();
      expect(bridgeProcesses(join(home, 'data'))).toEqual([]);
      for (const r of Object.values(runs)) {
        const st = await stateOf(r);
        expect(st).toMatchObject({ host: 'daemon', pid });
        expect(st.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
        const raw = await readFile(join(home, 'data', 'bridges', `${st.session}.json`), 'utf8');
        expect(raw).not.toContain(r.token);
      }
      expect(runs.a.state.socket).not.toBe(runs.b.state.socket);
      const log = await readFile(join(d.dir, 'daemon.log'), 'utf8');
      for (const r of Object.values(runs)) expect(log).not.toContain(r.token);
      const ok = await call(runs.a, 'run_command', { command: 'echo from-a' });
      expect(ok.value.exit_code, ok.text).toBe(0);
      expect(String(ok.value.stdout)).toContain('from-a');
    });

    it("takes a session only on its Unix socket, only for the run's data folder and its own gateway folder", async () => {
      const body = {
        workspace: runs.a.ws,
        session: 'evil-session',
        tokenSha256: 'a'.repeat(64),
        socketPath: join(home, 'evil.sock'),
        agent: 'claude',
        container: 'corral-evil',
        engine: runs.a.state.engine ?? (await stateOf(runs.a)).engine!,
        approvalTimeoutMs: 1000,
        dataDir: join(home, 'data'),
        hostCommands: { env: [], network: false },
        hostEnv: {},
      };
      // Over HTTP (what a browser or, with --public, another machine reaches): refused.
      const tcp = await d.api('POST', '/api/bridges', { ...body });
      expect(tcp.status).toBe(403);
      const paths = daemonPaths(env);
      // On the socket: a socket outside the workspace's gateway folder, or another data folder: refused.
      const elsewhere = await daemonRequest(paths, 'POST', '/api/bridges', body);
      expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(400);
      expect(JSON.stringify(elsewhere.body)).toMatch(/gateway folder/);
      const otherData = await daemonRequest(paths, 'POST', '/api/bridges', {
        ...body,
        socketPath: join(dirname(runs.a.state.socket!), 'bridge-evil-session.sock'),
        dataDir: join(home, 'other-data'),
      });
      expect(otherData.status).toBe(400);
      // Nor a second session on B's socket path (its session id is served already).
      const taken = await daemonRequest(paths, 'POST', '/api/bridges', {
        ...body,
        workspace: runs.b.ws,
        session: runs.b.state.session,
        socketPath: runs.b.state.socket,
      });
      expect(taken.status).toBe(400);
      expect(existsSync(join(home, 'evil.sock'))).toBe(false);
      // B is still served with its own token.
      const out = await call(runs.b, 'run_command', { command: 'echo b-ok' });
      expect(out.value.exit_code, out.text).toBe(0);
    });

    it("attack: sandbox A cannot reach B's session through the shared daemon", async () => {
      const a = runs.a;
      const b = runs.b;
      // B runs a command; A must not see it, its output, or its socket.
      const bOut = await call(b, 'run_command', { command: 'cat b-secret.txt' });
      expect(bOut.value.exit_code, bOut.text).toBe(0);
      const bId = String(bOut.value.id);
      expect(bId).toMatch(/^[0-9a-f]{8}$/);

      // From inside A: only A's socket is in its gateway folder; B's host path does not exist there.
      const bName = b.state.socket!.split('/').pop()!;
      const look = await inSandbox(
        a,
        `ls -a /run/corral/gw; for p in "${b.state.socket}" "/run/corral/gw/${bName}"; do test -e "$p" && echo "FOUND $p"; done; true`,
      );
      expect(look.code, look.stderr).toBe(0);
      expect(look.stdout).not.toContain('FOUND');
      expect(look.stdout).not.toContain(bName);

      // From inside A, B's token presented to the bridge A reaches (its forwarder): refused.
      const probe = (token: string) =>
        inSandbox(
          a,
          `curl -s -o /dev/null -w '%{http_code}' -X POST -H 'authorization: Bearer ${token}' -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' --data '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' http://127.0.0.1:3129/mcp`,
        );
      const withB = await probe(b.token);
      expect(withB.stdout.trim(), withB.stderr).toBe('401');
      const withA = await probe(a.token);
      expect(withA.stdout.trim(), withA.stderr).toBe('200');

      // A, with its own token, asks about B's command: unknown to A's session; B's output nowhere.
      for (const tool of ['command_status', 'stop_command']) {
        const r = await call(a, tool, { id: bId });
        expect(r.isError, r.text).toBe(true);
        expect(r.text).not.toContain('secret-of-b');
      }
      const list = await call(a, 'list_commands', {});
      expect(list.text).not.toContain(bId);
      expect(list.text).not.toContain('b-secret');

      // A's host command cannot read B's workspace.
      if (await confinementAvailable()) {
        const read = await call(a, 'run_command', { command: `cat ${b.ws}/b-secret.txt` });
        expect(read.value.exit_code).not.toBe(0);
        expect(JSON.stringify(read.value)).not.toContain('secret-of-b');
        expect(await readFile(join(a.ws, String(read.value.output_dir), 'stdout'), 'utf8')).not.toContain(
          'secret-of-b',
        );
      }

      // B waits for approval; A's approvals do not show it, and B's answer does not answer A.
      const bAsk = call(b, 'run_command', { command: 'ls -1' });
      const [p] = await eventually(async () => {
        const l = await pending(b);
        return l.length ? l : undefined;
      }, "B's approval");
      expect(p!.session).toBe(b.state.session);
      expect(await pending(a)).toEqual([]);
      expect((await corral(['approvals', 'always', p!.id], { cwd: b.ws, env })).code).toBe(0);
      expect((await bAsk).value.exit_code).toBe(0);
      const aAsk = call(a, 'run_command', { command: 'ls -1' });
      const [q] = await eventually(async () => {
        const l = await pending(a);
        return l.length ? l : undefined;
      }, 'A to ask for the same command itself');
      expect(q!.session).toBe(a.state.session);
      expect((await corral(['approvals', 'deny', q!.id], { cwd: a.ws, env })).code).toBe(0);
      expect((await aAsk).value).toMatchObject({ status: 'refused' });
    }, 240_000);

    it('a daemon stopped, or killed, and started again serves both sessions again', async () => {
      for (const how of ['stop', 'kill'] as const) {
        const old = await daemonPid();
        if (how === 'stop') expect((await corral(['daemon', 'stop'], { env })).code).toBe(0);
        else process.kill(old, 'SIGKILL');
        await eventually(async () => (pidAlive(old) ? undefined : true), 'the daemon to end');
        // Meanwhile the sandboxes' bridges are down, and their sessions not ended.
        for (const r of Object.values(runs)) {
          const listening = await socketAccepts(r.state.socket!);
          // On failure, who listens there (a process that should not).
          if (listening)
            console.log(
              how,
              execFileSync('ss', ['-xlpn'], { encoding: 'utf8' })
                .split('\n')
                .filter((l) => l.includes(r.state.session!)),
            );
          expect(listening, `${how}: ${r.state.socket}`).toBe(false);
          expect((await stateOf(r)).ended).toBeUndefined();
        }
        // `corral list` says so, and how to bring it back.
        const down = await corral(['list'], { cwd: runs.a.ws, env });
        expect(down.stderr).toMatch(/its host bridge is down .*`corral daemon start` serves it again/);
        const listed = JSON.parse(
          (await corral(['list', '--json'], { cwd: runs.a.ws, env })).stdout,
        ) as Array<{
          session: string;
          bridge: string | null;
        }>;
        for (const r of Object.values(runs))
          expect(listed.find((x) => x.session === r.state.session)?.bridge).toBe('down');
        const s = await corral(['daemon', 'start', '--listen', '127.0.0.1:0'], { env });
        expect(s.code, s.stderr).toBe(0);
        for (const r of Object.values(runs)) {
          await eventually(async () => ((await socketAccepts(r.state.socket!)) ? true : undefined), 'served');
          await r.client.close().catch(() => {});
          r.client = await connect(r);
          const out = await call(r, 'run_command', { command: `echo again-${how}` });
          expect(out.value.exit_code, out.text).toBe(0);
          expect((await stateOf(r)).pid).toBe(await daemonPid());
        }
        const up = JSON.parse((await corral(['list', '--json'], { cwd: runs.a.ws, env })).stdout) as Array<{
          session: string;
          bridge: string | null;
        }>;
        for (const r of Object.values(runs))
          expect(up.find((x) => x.session === r.state.session)?.bridge).toBe('daemon');
      }
      expect(bridgeProcesses(join(home, 'data'))).toEqual([]);
    }, 240_000);

    it('a sandbox that exits ends its session (socket gone, state ended); the other one is served on', async () => {
      const b = runs.b;
      const stop = await corral(['stop', 'claude', '-f'], { cwd: b.ws, env });
      expect(stop.code, stop.stderr).toBe(0);
      await eventually(async () => ((await stateOf(b)).ended ? true : undefined), "B's session to end");
      expect(existsSync(b.state.socket!)).toBe(false);
      const out = await call(runs.a, 'run_command', { command: 'echo still-here' });
      expect(out.value.exit_code, out.text).toBe(0);
    }, 120_000);
  });
}
