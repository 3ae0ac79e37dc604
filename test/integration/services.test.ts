/**
 * Service containers, on real engines: a trusted project's `services:` start with a sandbox behind
 * the gateway and the sandbox reaches them by name (through its proxy and directly); the host
 * bridge's start_service (called with the MCP SDK's client over its Unix socket, as a sandboxed
 * agent would) brings one up for a running sandbox, which reaches it by name without restarting;
 * another workspace's sandbox cannot reach it; and nothing is left (container, volume, network)
 * when the session ends, is interrupted, or the service is stopped.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalRequest, addAllowed } from '../../src/bridge/approvals.js';
import { type Bridge, startBridge } from '../../src/bridge/server.js';
import type { ContainerEngine } from '../../src/engine/index.js';
import { serviceController } from '../../src/services/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { buildEchoImage } from '../helpers/services.js';

const run = promisify(execFile);

/** What the engine still holds for a workspace's services. */
async function leftovers(kind: string, engine: ContainerEngine, wsId: string) {
  const containers = await engine.list({
    labels: [`io.corral.workspace=${wsId}`, 'io.corral.role=service'],
    all: true,
  });
  const volumes = await engine.listVolumes([`io.corral.workspace=${wsId}`, 'io.corral.role=service-data']);
  const networks = (await run(kind, ['network', 'ls', '--format', '{{.Name}}'])).stdout
    .split('\n')
    .filter((n) => n === `corral-${wsId}-net`);
  return { containers: containers.map((c) => c.name), volumes: volumes.map((v) => v.name), networks };
}

async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const kind of TEST_ENGINES) {
  describe(`services on ${kind}`, () => {
    let engine: ContainerEngine;
    let root: string;
    let env: NodeJS.ProcessEnv;
    const image = `localhost/corral-test-echo:${process.pid}`;
    const temps: string[] = [];
    const workspace = async (name: string) => {
      const dir = await realpath(await mkdtemp(join(root, `${name}-`)));
      return { path: dir, id: workspaceIdOf(dir) };
    };
    const sh = (cwd: string, script: string, onSpawn?: (c: ChildProcess) => void) =>
      corral(['shell', 'claude', '--no-join', '--', 'sh', '-c', script], {
        cwd,
        env,
        ...(onSpawn ? { onSpawn } : {}),
      });

    beforeAll(async () => {
      engine = await engineFor(kind);
      await buildEchoImage(engine, image);
      root = await realpath(await mkdtemp(join(tmpdir(), 'corral-svc-')));
      temps.push(root);
      const data = await mkdtemp(join(tmpdir(), 'corral-svc-data-'));
      temps.push(data);
      await writeFile(join(data, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(data, 'config.yaml'),
        CORRAL_DATA_DIR: data,
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      // The in-process bridge below shares corral's data folder with the CLI it runs beside.
      process.env.CORRAL_DATA_DIR = data;
    }, 600_000);

    afterAll(async () => {
      await engine?.removeImage(image).catch(() => {});
      await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
      delete process.env.CORRAL_DATA_DIR;
    });

    async function trustedProject(secret: string) {
      const ws = await workspace('project');
      await writeFile(
        join(ws.path, '.corral.yaml'),
        `services:\n  echo:\n    image: ${image}\n    env: { ECHO_TOKEN: ${secret} }\n`,
      );
      expect((await corral(['trust'], { cwd: ws.path, env })).code).toBe(0);
      return ws;
    }

    it("starts a trusted project's services with the sandbox, reached by name, and removes them after", async () => {
      const secret = `tok-${randomBytes(8).toString('hex')}`;
      const ws = await trustedProject(secret);
      const r = await sh(
        ws.path,
        'curl -s -m 10 http://echo:8080/via-proxy; echo; curl --noproxy "*" -s -m 10 http://echo:8080/direct; echo; getent hosts echo; ' +
          // Attacks: rewrite the name table or the route file; reach another port of the service.
          '{ echo "127.0.0.1 echo" >> /etc/hosts; } 2>/dev/null || echo hosts-ro; ' +
          '{ echo "{}" > /run/corral/gw/services.json; } 2>/dev/null || echo routes-ro; ' +
          "curl -s -o /dev/null -w '%{http_code}\\n' -m 5 http://echo:22/",
      );
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('echo-ok /via-proxy');
      expect(lines[1]).toBe('echo-ok /direct');
      expect(lines[2]).toMatch(/^127\.0\.2\.\d+\s+echo$/);
      expect(lines.slice(3)).toEqual(['hosts-ro', 'routes-ro', '403']);
      expect(r.stderr).toContain('service echo');
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(await leftovers(kind, engine, ws.id)).toEqual({ containers: [], volumes: [], networks: [] });
      // The project's service went with the run's gateway; nothing of this workspace is left running.
      await corral(['clean'], { cwd: ws.path, env });
    }, 300_000);

    it('removes the services when corral is interrupted', async () => {
      const ws = await trustedProject('x');
      let child: ChildProcess | undefined;
      const done = sh(ws.path, 'sleep 120', (c) => {
        child = c;
      });
      const seen = await eventually(async () => {
        const l = await leftovers(kind, engine, ws.id);
        return l.containers.length && l.volumes.length && l.networks.length ? l : undefined;
      }, 'the service, its volume and network');
      expect(seen.containers).toEqual([`corral-${ws.id}-svc-echo`]);
      // The sandbox must be up too, or the signal lands before corral handles it.
      await eventually(async () => {
        const c = await engine.list({
          labels: [`io.corral.workspace=${ws.id}`, 'io.corral.role=agent'],
          all: false,
        });
        return c.length ? true : undefined;
      }, 'the sandbox running');
      child!.kill('SIGINT');
      const r = await done;
      expect(r.code).not.toBe(0);
      expect(await leftovers(kind, engine, ws.id)).toEqual({ containers: [], volumes: [], networks: [] });
      await corral(['clean'], { cwd: ws.path, env });
    }, 300_000);

    it("shares a project's services among the workspace's sandboxes until the last one stops", async () => {
      const ws = await trustedProject('x');
      // The first sandbox starts the service (it is this session's) and stays up…
      let first: ChildProcess | undefined;
      const firstDone = corral(
        ['shell', 'claude', '--no-join', '--name', `corral-${ws.id}-first`, '--', 'sleep', '600'],
        { cwd: ws.path, env, onSpawn: (c) => (first = c) },
      );
      await eventually(async () => {
        const l = await leftovers(kind, engine, ws.id);
        const c = await engine.list({
          labels: [`io.corral.workspace=${ws.id}`, 'io.corral.role=agent'],
          all: false,
        });
        return l.containers.length && c.length ? true : undefined;
      }, 'the first sandbox and its service');
      // …a second one joins it, then the first ends: the service stays for the second.
      expect((await corral(['shell', 'claude', '-d'], { cwd: ws.path, env })).code).toBe(0);
      first!.kill('SIGTERM');
      await firstDone;
      const live = await corral(
        ['exec', 'claude', '--', 'curl', '-s', '-m', '10', 'http://echo:8080/still'],
        {
          cwd: ws.path,
          env,
        },
      );
      expect(live.stdout).toBe('echo-ok /still');
      // The last one stops: the service goes with it.
      expect((await corral(['stop', '-f', 'claude'], { cwd: ws.path, env })).code).toBe(0);
      expect(await leftovers(kind, engine, ws.id)).toEqual({ containers: [], volumes: [], networks: [] });
      await corral(['clean'], { cwd: ws.path, env });
    }, 300_000);

    describe('start_service over the host bridge', () => {
      let ws: { path: string; id: string };
      let other: { path: string; id: string };
      let bridge: Bridge;
      let client: Client;
      let dispatcher: Agent;
      let shell: ChildProcess | undefined;
      let sandbox: Promise<Awaited<ReturnType<typeof corral>>>;
      let allowFile: string;
      const asked: ApprovalRequest[] = [];
      const secret = `pw-${randomBytes(8).toString('hex')}`;

      const call = async (name: string, args: Record<string, unknown> = {}) => {
        const res = await client.callTool({ name, arguments: args });
        const text = (res.content as Array<{ text: string }>)[0]!.text;
        return { isError: res.isError === true, value: JSON.parse(text) as Record<string, unknown> };
      };

      beforeAll(async () => {
        ws = await workspace('bridge');
        other = await workspace('other');
        // The sandbox waits for a service that does not exist yet, reads it by name, and stays up
        // (its session owns what the bridge starts) until the test ends it.
        sandbox = sh(
          ws.path,
          'i=0; until out=$(curl -sf -m 2 http://late:8080/from-sandbox); do i=$((i+1)); [ $i -gt 150 ] && exit 9; sleep 0.2; done; ' +
            // The direct path (its name in /etc/hosts, the forwarder's loopback listener) may trail the
            // proxy's by the forwarder's poll: gVisor delivers no inotify event for a host-side write.
            'j=0; until d=$(curl --noproxy "*" -sf -m 5 http://late:8080/direct); do j=$((j+1)); [ $j -gt 30 ] && break; sleep 0.1; done; ' +
            '{ echo "$out"; echo "$d"; } > .out.tmp; mv .out.tmp out.txt; sleep 600',
          (c) => {
            shell = c;
          },
        );
        const session = await eventually(async () => {
          const c = await engine.list({
            labels: [`io.corral.workspace=${ws.id}`, 'io.corral.role=agent'],
            all: false,
          });
          return c[0]?.labels['io.corral.session'];
        }, 'the sandbox running');
        const sockDir = await mkdtemp(join(tmpdir(), 'cs-'));
        temps.push(sockDir);
        allowFile = join(sockDir, 'allowed.json');
        const token = randomBytes(24).toString('hex');
        bridge = await startBridge({
          workspace: ws.path,
          session,
          token,
          socketPath: join(sockDir, 'b.sock'),
          allowlistPath: allowFile,
          approvalTimeoutMs: 2000,
          approve: async (req) => {
            asked.push(req);
            return 'once';
          },
          services: serviceController(engine, ws, session),
        });
        dispatcher = new Agent({ connect: { socketPath: bridge.socketPath } });
        const fetch = ((url: string | URL, init?: RequestInit) =>
          undiciFetch(url, { ...(init as object), dispatcher })) as unknown as FetchLike;
        client = new Client({ name: 'services-test', version: '1' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL('http://corral-bridge/mcp'), {
            fetch,
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
      }, 300_000);

      afterAll(async () => {
        await client?.close();
        await bridge?.close();
        await dispatcher?.close();
        shell?.kill('SIGTERM');
        await sandbox?.catch(() => undefined);
        await corral(['clean'], { cwd: ws.path, env });
        await corral(['clean'], { cwd: other.path, env });
      });

      it('asks by image and env key names, starts it, and the running sandbox reaches it by name', async () => {
        const r = await call('start_service', { image, name: 'late', env: { LATE_PASSWORD: secret } });
        expect(r.isError, JSON.stringify(r.value)).toBe(false);
        expect(r.value).toMatchObject({
          name: 'late',
          ports: [8080],
          reach_at: ['late:8080'],
          env_keys: ['LATE_PASSWORD'],
        });
        expect(asked).toHaveLength(1);
        expect(asked[0]).toMatchObject({ kind: 'service', image, name: 'late', envKeys: ['LATE_PASSWORD'] });
        expect(JSON.stringify({ ...asked[0], signal: undefined })).not.toContain(secret);
        const out = await eventually(
          () => readFile(join(ws.path, 'out.txt'), 'utf8').catch(() => undefined),
          'the sandbox reaching the service',
        );
        expect(out.trim().split('\n')).toEqual(['echo-ok /from-sandbox', 'echo-ok /direct']);
        // The container got the value.
        const inspect = (await run(kind, ['inspect', `corral-${ws.id}-svc-late`])).stdout;
        expect(inspect).toContain(`LATE_PASSWORD=${secret}`);
      }, 120_000);

      it('lists it and returns its log lines', async () => {
        const list = await call('list_services');
        expect(list.value.services).toMatchObject([
          { name: 'late', image, status: 'running', ports: [8080] },
        ]);
        const logs = await call('service_logs', { name: 'late', lines: 2 });
        expect(String(logs.value.logs).split('\n')).toEqual(['HIT /from-sandbox', 'HIT /direct']);
        const cli = await corral(['services', 'list', '--json'], { cwd: ws.path, env });
        expect(JSON.parse(cli.stdout)).toMatchObject([{ name: 'late', envKeys: ['LATE_PASSWORD'] }]);
        expect(cli.stdout).not.toContain(secret);
        const tail = await corral(['services', 'logs', 'late', '-n', '1'], { cwd: ws.path, env });
        expect(tail.stdout.trim()).toBe('HIT /direct');
        const none = await corral(['services', 'stop', 'nosuch'], { cwd: ws.path, env });
        expect(none.code).toBe(1);
        expect(none.stderr).toContain('No service named nosuch');
      });

      it("is out of another workspace's reach, by name or by address", async () => {
        const ip = (await engine.inspect(`corral-${ws.id}-svc-late`))?.networks[`corral-${ws.id}-net`]?.ip;
        expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        const code = (url: string) => `curl -s -o /dev/null -w '%{http_code}\\n' -m 5 ${url}`;
        const r = await sh(
          other.path,
          `${code('http://late:8080/x')}; ${code(`http://${ip}:8080/x`)}; curl --noproxy '*' -s -m 3 http://${ip}:8080/x || echo unreachable; getent hosts late || echo unknown`,
        );
        expect(r.stdout.trim().split('\n')).toEqual(['403', '403', 'unreachable', 'unknown']);
        // The first workspace's service saw none of it.
        const logs = await call('service_logs', { name: 'late', lines: 50 });
        expect(String(logs.value.logs)).not.toContain('HIT /x');
      }, 120_000);

      it('refuses an image without ports, and one that exits at once, leaving nothing behind', async () => {
        const quitter = await agentImage(engine, 'claude');
        const noPorts = await call('start_service', { image: quitter, name: 'quits' });
        expect(noPorts.isError).toBe(true);
        expect(String(noPorts.value.message)).toContain('exposes no port');
        const quits = await call('start_service', { image: quitter, name: 'quits', ports: [9] });
        expect(quits.isError).toBe(true);
        expect(String(quits.value.message)).toContain('exited at once');
        const left = await leftovers(kind, engine, ws.id);
        expect(left.containers).toEqual([`corral-${ws.id}-svc-late`]);
        expect(left.volumes).toHaveLength(1);
      }, 60_000);

      it('an allowlisted image starts without asking; stop_service removes its container and volume', async () => {
        await addAllowed(ws.path, `service:${image}`, allowFile);
        asked.length = 0;
        const r = await call('start_service', { image, name: 'extra', ports: [8080] });
        expect(r.isError, JSON.stringify(r.value)).toBe(false);
        expect(asked).toHaveLength(0);
        const withExtra = await leftovers(kind, engine, ws.id);
        expect(withExtra.containers.sort()).toEqual([
          `corral-${ws.id}-svc-extra`,
          `corral-${ws.id}-svc-late`,
        ]);
        expect(withExtra.volumes).toHaveLength(2);
        const stopped = await call('stop_service', { name: 'extra' });
        expect(stopped.value).toMatchObject({ status: 'stopped' });
        const after = await leftovers(kind, engine, ws.id);
        expect(after.containers).toEqual([`corral-${ws.id}-svc-late`]);
        expect(after.volumes).toHaveLength(1);
        // `late` still uses the network.
        expect(after.networks).toHaveLength(1);
        expect((await call('stop_service', { name: 'extra' })).isError).toBe(true);
      }, 60_000);

      it('goes (container, volume, network) when the session that started it ends', async () => {
        shell!.kill('SIGTERM');
        await sandbox;
        expect(await leftovers(kind, engine, ws.id)).toEqual({ containers: [], volumes: [], networks: [] });
      }, 60_000);
    });
  });
}
