/**
 * The gateway of a remote engine (the test's second "machine", test/helpers/remote-host.ts): the
 * host its sandboxes must not reach is that machine, and this machine is just another address
 * there (refused unless a rule names it); the audit log and live `corral egress allow` work there;
 * a published port answers on this machine's loopback through the SSH connection, with nothing
 * listening on a port there; outside the gateway network ports are refused before anything is made;
 * a project's service runs there and its sandbox reaches it by name, as on a local engine.
 */
import { execSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import {
  ensureRemoteHost,
  HOST_ADDR,
  onRemote,
  REMOTE_ADDR,
  REMOTE_NS,
  REMOTE_PORT,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';
import { buildEchoImage } from '../helpers/services.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote gateway: ${skip}`);

const onRemoteQuiet = (cmd: string) => {
  try {
    onRemote(cmd);
  } catch {
    // already gone
  }
};

/** A TCP port free on this machine's loopback now. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Does something accept a TCP connection there? */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host, port, timeout: 2000 });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
    c.once('timeout', () => {
      c.destroy();
      resolve(false);
    });
  });
}

/** The TCP sockets listening in the remote machine's network namespace. */
const listeningThere = () =>
  execSync(`ip netns exec ${REMOTE_NS} ss -ltnH`)
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .sort();

/** A server on this machine, on its address on the link the remote machine reaches it by. */
async function serveHere(): Promise<{ server: Server; port: number }> {
  const server = createServer((_q, s) => s.end('this-machine'));
  await new Promise<void>((r) => server.listen(0, HOST_ADDR, r));
  return { server, port: (server.address() as { port: number }).port };
}

describe.skipIf(Boolean(skip))('the gateway of a remote engine', () => {
  let data: string;
  let sshDir: string;
  const made: string[] = [];
  const servers: Server[] = [];
  const images: [(typeof TEST_ENGINES)[number], string][] = [];
  const env = () => ({ CORRAL_SSH_CONFIG: SSH_CONFIG, CORRAL_DATA_DIR: data, CORRAL_SSH_DIR: sshDir });
  const on = (kind: string, ws: string, args: string[]) =>
    corral(['--remote', `gw-${kind}`, ...args], { cwd: ws, env: env() });
  const workspace = async (name: string) => {
    const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-gw-${name}-`)));
    made.push(ws);
    return ws;
  };
  const code = (url: string, direct = false) =>
    `curl ${direct ? "--noproxy '*' " : ''}-s -m 5 -o /dev/null -w '%{http_code}\\n' ${url}`;

  beforeAll(async () => {
    await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
    for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
    data = await mkdtemp(join(tmpdir(), 'corral-remote-gw-data-'));
    sshDir = await mkdtemp(join(tmpdir(), 'corral-remote-gw-ssh-'));
    for (const kind of TEST_ENGINES) {
      const added = await corral(['remote', 'add', `gw-${kind}`, REMOTE_URL, '--engine', kind], {
        env: env(),
      });
      expect(added.code, added.stderr).toBe(0);
    }
  }, 900_000);

  afterAll(async () => {
    for (const s of servers) s.close();
    for (const [kind, image] of images) {
      await (await engineFor(kind)).removeImage(image).catch(() => {});
      if (kind === 'podman') onRemoteQuiet(`podman rmi -f ${image}`);
    }
    for (const ws of made) {
      for (const kind of TEST_ENGINES) await on(kind, ws, ['clean']);
      await rm(ws, { recursive: true, force: true });
    }
    for (const f of sshDir ? execSync(`ls ${sshDir}`).toString().split('\n') : []) {
      if (f.startsWith('cm-'))
        execSync(`ssh -o ControlPath=${join(sshDir, f)} -O exit ${REMOTE_ADDR} 2>/dev/null || true`);
    }
    for (const d of [data, sshDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  for (const kind of TEST_ENGINES) {
    it(`on ${kind} there: the remote machine is the host (a wildcard rule does not open it), this machine an address a rule opens`, async () => {
      const ws = await workspace(`attack-${kind}`);
      const { server, port } = await serveHere();
      servers.push(server);
      const sshd = `http://${REMOTE_ADDR}:${REMOTE_PORT}/`;
      const r = await on(kind, ws, [
        'shell',
        'claude',
        // A wildcard never opens the host; a rule naming this machine's address and port opens it.
        '--allow',
        `*:${REMOTE_PORT}`,
        '--allow',
        `${HOST_ADDR}:${port}`,
        '--',
        'sh',
        '-c',
        [
          code(sshd),
          code(
            `http://${kind === 'docker' ? 'host.docker.internal' : 'host.containers.internal'}:${REMOTE_PORT}/`,
          ),
          code(`http://${HOST_ADDR}:22/`),
          code(`http://${HOST_ADDR}:${port}/`),
          // Around the gateway (loopback is never proxied): no route from the sandbox anywhere.
          code(`http://127.0.0.1:${REMOTE_PORT}/`),
          code(sshd, true),
          code(`http://${HOST_ADDR}:${port}/`, true),
          `curl -s -m 5 ${sshd}`,
        ].join('; '),
      ]);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 7)).toEqual(['403', '403', '403', '200', '000', '000', '000']);
      // Refused as the host (not as some private address): that machine is the sandbox's host.
      expect(lines.slice(7).join('\n')).toMatch(
        new RegExp(
          `${REMOTE_ADDR.replaceAll('.', '\\.')}(:${REMOTE_PORT})? is (the host|an address of the host)`,
        ),
      );
    });

    it(`on ${kind} there: \`corral egress log\` shows the remote gateway's log, and \`egress allow\` applies to it live`, async () => {
      const ws = await workspace(`live-${kind}`);
      const { server, port } = await serveHere();
      servers.push(server);
      const target = `http://${HOST_ADDR}:${port}/`;
      // Refused first; then asked again until the rule added meanwhile lets it through.
      const running = on(kind, ws, [
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        `${code(target)}; for i in $(seq 100); do c=$(${code(target)}); [ "$c" = 200 ] && break; sleep 0.2; done; echo $c`,
      ]);
      let seen = false;
      for (let i = 0; !seen && i < 150; i++) {
        const log = await on(kind, ws, ['egress', 'log', '--json', '--denied']);
        seen = log.stdout.includes(`"port":${port}`);
        if (!seen) await new Promise((res) => setTimeout(res, 200));
      }
      expect(seen, 'the refusal appeared in `corral egress log`').toBe(true);
      // Without --remote: the workspace's gateway settings name the machine it runs on.
      const allow = await corral(['egress', 'allow', `${HOST_ADDR}:${port}`], { cwd: ws, env: env() });
      expect(allow.code, allow.stderr).toBe(0);
      expect(allow.stderr).toContain(`applied to the running gateway (${kind})`);
      const r = await running;
      if (r.code !== 0) console.error(r.stderr);
      expect(r.stdout.trim().split('\n')).toEqual(['403', '200']);
    });

    it(`on ${kind} there: --port answers on this machine's 127.0.0.1 through SSH, and nothing listens on a port there`, async () => {
      const ws = await workspace(`ports-${kind}`);
      const port = await freePort();
      // Answers one request, then ends the run (or gives up after a minute).
      const server = `require('http').createServer((q,s)=>{s.end('from-the-sandbox');setTimeout(()=>process.exit(0),200)}).listen(8080);setTimeout(()=>process.exit(3),60000)`;
      const running = on(kind, ws, ['shell', 'claude', '--port', `${port}:8080`, '--', 'node', '-e', server]);
      let body = '';
      for (let i = 0; i < 300 && !body; i++) {
        // Before the one request that ends it: nothing on a TCP port there but sshd, nothing
        // published by the engine for this workspace, and this port only on this machine's loopback.
        if (!(await answers('127.0.0.1', port))) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        expect(listeningThere()).toEqual([`${REMOTE_ADDR}:${REMOTE_PORT}`]);
        expect(
          onRemote(
            `${kind} ps --filter label=io.corral.workspace=${workspaceIdOf(ws)} --format '{{.Ports}}'`,
          ).trim(),
        ).toBe('');
        expect(await answers(REMOTE_ADDR, port)).toBe(false);
        expect(await answers(HOST_ADDR, port)).toBe(false);
        // `corral list` shows the port, as it shows a local relay's.
        const listed = await on(kind, ws, ['list', '--json']);
        expect(listed.stdout).toMatch(new RegExp(`"hostPort":\\s*${port}\\b`));
        // The forward listens before the sandbox's server does: until then the connection drops.
        body = await fetch(`http://127.0.0.1:${port}/`)
          .then((r) => r.text())
          .catch(() => '');
        if (!body) await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toBe('from-the-sandbox');
      const r = await running;
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      // The run has ended: its forward is gone.
      expect(await answers('127.0.0.1', port)).toBe(false);
    });

    it(`on ${kind} there: a trusted project's service runs there, reached by name through the gateway and directly, and goes with the run`, async () => {
      const ws = await workspace(`svc-${kind}`);
      const image = `localhost/corral-test-echo:remote-${process.pid}`;
      await buildEchoImage(await engineFor(kind), image);
      images.push([kind, image]);
      await writeFile(join(ws, '.corral.yaml'), `services:\n  echo:\n    image: ${image}\n`);
      expect((await corral(['trust'], { cwd: ws, env: env() })).code).toBe(0);
      const r = await on(kind, ws, [
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        'curl -s -m 10 http://echo:8080/via-proxy; echo; curl --noproxy "*" -s -m 10 http://echo:8080/direct; echo; getent hosts echo',
      ]);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 2)).toEqual(['echo-ok /via-proxy', 'echo-ok /direct']);
      expect(lines[2]).toMatch(/^127\.\d+\.\d+\.\d+\s+echo$/);
      // Nothing of the service is left there: container, data volume, network. (By name: Podman 4
      // reads two label filters as either/or.)
      const id = workspaceIdOf(ws);
      const count = (list: string) => `{ ${list} | grep -c -- 'corral-${id}-svc-' || true; }`;
      expect(
        onRemote(
          `${count(`${kind} ps -a --format '{{.Names}}'`)}; ${count(`${kind} volume ls -q`)}; ${kind} network ls -q --filter label=io.corral.workspace=${id} | wc -l`,
        ),
      ).toBe('0\n0\n0\n');
    });

    it(`on ${kind} there: published ports outside the gateway network are refused, naming why, and nothing is created`, async () => {
      const ws = await workspace(`refused-${kind}`);
      const mine = `--filter label=io.corral.workspace=${workspaceIdOf(ws)}`;
      const left = () => onRemote(`${kind} ps -aq ${mine} | wc -l; ${kind} network ls -q ${mine} | wc -l`);
      const r = await on(kind, ws, ['shell', 'claude', '--network', 'open', '--port', '8080', '--', 'true']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Published ports \(8080\) on the remote engine .* need the gateway network/);
      expect(left()).toBe('0\n0\n');
    });
  }
});
