/**
 * The gateway of a remote engine (the test's second "machine", test/helpers/remote-host.ts): the
 * host its sandboxes must not reach is that machine, and this machine is just another address
 * there (refused unless a rule names it); the audit log and live `corral egress allow` work there;
 * published ports and services are refused, saying so, before anything is created.
 */
import { execSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
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
  REMOTE_PORT,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote gateway: ${skip}`);

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

    it(`on ${kind} there: published ports and services are refused, naming what, and nothing is created`, async () => {
      const ws = await workspace(`refused-${kind}`);
      const mine = `--filter label=io.corral.workspace=${workspaceIdOf(ws)}`;
      const left = () => onRemote(`${kind} ps -aq ${mine} | wc -l; ${kind} network ls -q ${mine} | wc -l`);
      const port = await on(kind, ws, ['shell', 'claude', '--port', '8080', '--', 'true']);
      expect(port.code).not.toBe(0);
      expect(port.stderr).toMatch(/Published ports \(--port 8080\) are not supported on the remote engine/);
      await writeFile(join(ws, '.corral.yaml'), 'services:\n  db:\n    image: localhost/never-pulled:1\n');
      expect((await corral(['trust'], { cwd: ws, env: env() })).code).toBe(0);
      const svc = await on(kind, ws, ['shell', 'claude', '--', 'true']);
      expect(svc.code).not.toBe(0);
      expect(svc.stderr).toMatch(
        /Services \(services: db in the config\) are not supported on the remote engine/,
      );
      expect(left()).toBe('0\n0\n');
    });
  }
});
