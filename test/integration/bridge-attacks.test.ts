/**
 * Attacks on the host bridge from a real sandbox (issue 15, findings 1 and 2), on both engines.
 * A detached Claude Code run is kept busy by the scripted model; the test edits the workspace from
 * inside the sandbox (`corral exec`) and calls `run_command` with the session's token, read where
 * the agent reads it, exactly as the agent would. Allowed beforehand: `npm test*`, `echo*`, `env`,
 * `cat*`, `curl*`. corral runs with fake secrets in its environment; none may come back.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinementAvailable } from '../../src/bridge/confine.js';
import type { BridgeState } from '../../src/bridge/session-state.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const APPROVAL_TIMEOUT_S = 20;
const SECRET = `sk-fake-${randomBytes(12).toString('hex')}`;
const OTHER_SECRET = `other-${randomBytes(12).toString('hex')}`;

async function eventually<T>(get: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Out = { isError: boolean; value: Record<string, unknown>; text: string };

for (const kind of TEST_ENGINES) {
  describe(`attacks on the host bridge on ${kind}`, () => {
    let home: string;
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let server: ModelServer;
    let state: BridgeState;
    let client: Client;
    let agent: Agent;
    let hostService: Server;
    let port = 0;
    let addedNpm = '';
    const homeFile = join(homedir(), `.corral-attack-${randomBytes(6).toString('hex')}`);

    const call = async (command: string): Promise<Out> => {
      const res = await client.callTool({ name: 'run_command', arguments: { command } }, undefined, {
        timeout: 60_000,
      });
      const text = (res.content as Array<{ text: string }>)[0]!.text;
      return { isError: res.isError === true, value: JSON.parse(text) as Record<string, unknown>, text };
    };
    /** What the command wrote, as the agent can read it back from the workspace too. */
    const files = async (out: Out) => {
      const dir = join(ws, String(out.value.output_dir));
      return `${await readFile(join(dir, 'stdout'), 'utf8')}${await readFile(join(dir, 'stderr'), 'utf8')}`;
    };
    const inSandbox = (script: string) =>
      corral(['exec', 'claude', '--', 'sh', '-c', script], { cwd: ws, env });

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-attacks-')));
      ws = join(home, 'ws');
      await mkdir(ws);
      await writeFile(join(ws, 'package.json'), '{"name":"t","scripts":{"test":"echo tests-pass"}}\n');
      await writeFile(join(home, 'config.yaml'), 'bridge:\n  env: [HOST_ONLY_LISTED]\n');
      await writeFile(homeFile, `home-secret-${SECRET}\n`, { mode: 0o600 });
      hostService = createServer((_req, res) => res.end('host-service-answer'));
      await new Promise<void>((r) => hostService.listen(0, '127.0.0.1', r));
      port = (hostService.address() as { port: number }).port;
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(home, 'data'),
        CORRAL_CONFIG: join(home, 'config.yaml'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        CORRAL_APPROVAL_TIMEOUT: String(APPROVAL_TIMEOUT_S),
        // Fake secrets in corral's own environment: a key corral holds, and any other variable.
        OPENAI_API_KEY: SECRET,
        HOST_ONLY_SECRET: OTHER_SECRET,
        HOST_ONLY_LISTED: 'listed-value',
      };
      for (const p of ['npm test*', 'echo*', 'env', 'cat*', 'curl*']) {
        const r = await corral(['allowed', 'add', p], { cwd: ws, env });
        expect(r.code, r.stderr).toBe(0);
        if (p === 'npm test*') addedNpm = r.stderr;
      }
      const script = await parseScript(
        [
          'turns:',
          '  - tool: Bash',
          '    input: {"command": "timeout 300 tail -f /dev/null"}',
          '  - text: Done.',
          '',
        ].join('\n'),
        'bridge attacks script',
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
      const cat = await inSandbox('cat "$HOME/.corral/mcp.json"');
      expect(cat.code, cat.stderr).toBe(0);
      const token = /Bearer ([0-9a-f]+)/.exec(cat.stdout)?.[1];
      expect(token).toBeDefined();
      agent = new Agent({ connect: { socketPath: state.socket! } });
      const fetchVia: FetchLike = ((url: string | URL, init?: RequestInit) =>
        undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
      client = new Client({ name: 'attack-test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('http://corral-bridge/mcp'), {
          fetch: fetchVia,
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
    }, 600_000);

    afterAll(async () => {
      await client?.close().catch(() => {});
      await agent?.close().catch(() => {});
      await server?.close();
      await new Promise((r) => hostService?.close(r));
      await rm(homeFile, { force: true });
      if (ws) await corral(['clean'], { cwd: ws, env });
    });

    it('`corral allowed add` binds `npm test*` to package.json and shows the hash', () => {
      expect(addedNpm).toMatch(/bound to package\.json \(scripts.*sha256:[0-9a-f]{16}/);
    });

    it('the detached bridge process holds none of the secrets', () => {
      const environ = readFileSync(`/proc/${state.pid}/environ`, 'utf8');
      expect(environ).not.toContain(SECRET);
      expect(environ).not.toContain(OTHER_SECRET);
    });

    it('`env` shows a scrubbed environment: no key corral holds, nothing of its own, only what is listed', async () => {
      const out = await call('env');
      expect(out.value.exit_code, out.text).toBe(0);
      const all = `${out.text}\n${await files(out)}`;
      expect(all).not.toContain(SECRET);
      expect(all).not.toContain(OTHER_SECRET);
      expect(all).not.toMatch(/CORRAL_|OPENAI_API_KEY/);
      expect(all).toContain('HOST_ONLY_LISTED=listed-value');
    });

    it('$VAR, globs and ~ after an allowed prefix are not expanded', async () => {
      await mkdir(join(home, 'listing'));
      await writeFile(join(home, 'listing', 'host-file-name'), '');
      const out = await call(`echo $OPENAI_API_KEY $HOST_ONLY_SECRET $PATH ${home}/listing/* ~`);
      expect(out.value.exit_code, out.text).toBe(0);
      const all = `${out.text}\n${await files(out)}`;
      expect(all).not.toContain(SECRET);
      expect(all).not.toContain(OTHER_SECRET);
      expect(all).not.toContain(process.env.PATH!);
      expect(all).not.toContain('host-file-name');
      expect(out.value.stdout).toBe(`$OPENAI_API_KEY $HOST_ONLY_SECRET $PATH ${home}/listing/* ~\n`);
    });

    it('refuses arguments after the prefix that change what runs (--script-shell)', async () => {
      const out = await call(`npm test --script-shell=${ws}/evil.sh`);
      expect(out.isError).toBe(true);
      expect(String(out.value.reason)).toMatch(/refused without asking: --script-shell/);
      expect(await (async () => (await call('npm test -- -c /tmp/x')).isError)()).toBe(true);
    });

    it('runs `npm test` as allowed; once the sandbox edits scripts.test it asks again, with the diff', async () => {
      const ok = await call('npm test');
      expect(ok.value.exit_code, ok.text).toBe(0);
      expect(String(ok.value.stdout)).toContain('tests-pass');

      const edit = await inSandbox(
        `printf '%s\\n' '{"name":"t","scripts":{"test":"echo pwned > pwned.txt"}}' > /workspace/package.json`,
      );
      expect(edit.code, edit.stderr).toBe(0);
      const asked = call('npm test');
      const [p] = await eventually(async () => {
        const r = await corral(['approvals', '--json'], { cwd: ws, env });
        const list = JSON.parse(r.stdout || '[]') as Array<{ id: string; details: Record<string, string> }>;
        return list.length ? list : undefined;
      }, 'npm test to ask again');
      expect(p!.details.allowedAs).toBe('npm test*');
      expect(p!.details.changes).toContain('-    "test": "echo tests-pass"');
      expect(p!.details.changes).toContain('+    "test": "echo pwned > pwned.txt"');
      expect(p!.details.binding).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(existsSync(join(ws, 'pwned.txt'))).toBe(false);
      expect((await corral(['approvals', 'deny', p!.id], { cwd: ws, env })).code).toBe(0);
      const out = await asked;
      expect(out.isError).toBe(true);
      expect(out.value).toMatchObject({ status: 'refused', reason: 'the user declined' });
      expect(existsSync(join(ws, 'pwned.txt'))).toBe(false);
    }, 60_000);

    it('a confined command sees no file of the host home and no host network', async (ctx) => {
      if (!(await confinementAvailable())) ctx.skip('bubblewrap does not run here');
      const read = await call(`cat ${homeFile}`);
      expect(`${read.text}${await files(read)}`).not.toContain(SECRET);
      expect(read.value.exit_code).not.toBe(0);
      const net = await call(`curl -sS -m 3 http://127.0.0.1:${port}/`);
      expect(`${net.text}${await files(net)}`).not.toContain('host-service-answer');
      expect(net.value.exit_code).not.toBe(0);
    });
  });
}
