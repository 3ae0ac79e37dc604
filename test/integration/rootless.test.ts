/**
 * Rootless Podman, as a desktop user runs it: corral finds (and starts) the user's own Podman
 * service, maps the user onto the sandbox user with keep-id, so files the agent writes belong to the
 * user on the host while the agent is uid 1000 inside, and the gateway works without root. Needs
 * root to create the test user; the images are copied into the user's storage from the rootful
 * engine (a rootless user cannot debootstrap a base).
 */
import { execFileSync, execSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES } from '../helpers/engines.js';

const USER = 'corral-rootless';
const UID = 2400;
const RUNTIME = `/run/user/${UID}`;
const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? 'rootless Podman tests need root to create a test user'
  : !TEST_ENGINES.includes('podman')
    ? 'rootless Podman tests need Podman'
    : undefined;
if (skip) console.warn(`[skip] ${skip}`);

const asUser = (cmd: string) =>
  execSync(`runuser -u ${USER} -- env XDG_RUNTIME_DIR=${RUNTIME} HOME=/home/${USER} sh -c '${cmd}'`, {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();

describe.skipIf(Boolean(skip))('on rootless Podman', () => {
  let ws: string;
  const env = { HOME: `/home/${USER}`, XDG_RUNTIME_DIR: RUNTIME, CORRAL_ENGINE: '' };

  beforeAll(async () => {
    try {
      execFileSync('id', [USER], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['-m', '-u', String(UID), USER]);
    }
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      if (!execSync(`cat ${f} 2>/dev/null || true`).toString().includes(`${USER}:`))
        execSync(`echo ${USER}:400000:65536 >> ${f}`);
    }
    await mkdir(RUNTIME, { recursive: true, mode: 0o700 });
    await chown(RUNTIME, UID, UID);
    const engine = await engineFor('podman');
    for (const image of [await agentImage(engine, 'claude'), await gatewayImage(engine)]) {
      if (asUser(`podman image exists ${image} && echo yes || true`).includes('yes')) continue;
      execSync(
        `podman save ${image} | runuser -u ${USER} -- env XDG_RUNTIME_DIR=${RUNTIME} HOME=/home/${USER} podman load -q`,
        {
          stdio: 'ignore',
        },
      );
    }
    ws = await mkdtemp(join(`/home/${USER}`, 'ws-'));
    await chown(ws, UID, UID);
  }, 600_000);

  afterAll(async () => {
    asUser('podman ps -aq | xargs -r podman rm -f >/dev/null 2>&1; true');
    // The user's Podman service that corral started; nothing else of the user's should outlive the test.
    execSync(`pkill -u ${USER} || true`);
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it("finds the user's Podman, and files the agent writes belong to the user while the agent is not root", async () => {
    const r = await corral(
      ['shell', 'claude', '--network', 'none', '--', 'sh', '-c', 'id -u; echo hi > by-agent.txt'],
      { cwd: ws, asUser: USER, env },
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout.trim().split('\n')[0]).toBe('1000');
    expect((await stat(join(ws, 'by-agent.txt'))).uid).toBe(UID);
    const list = await corral(['doctor', '--json'], { cwd: ws, asUser: USER, env });
    expect(list.stdout).toMatch(/rootless/i);
  });

  it('runs behind the gateway: the sandbox has no way out but the proxy, which refuses unlisted hosts', async () => {
    const r = await corral(
      [
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        'curl -s -o /dev/null -w "%{http_code}" http://unlisted.example/; echo; ' +
          'curl -s --noproxy "*" -m 3 http://1.1.1.1/ && echo LEAK || echo blocked',
      ],
      { cwd: ws, asUser: USER, env },
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const [status, direct] = r.stdout.trim().split('\n');
    expect(status).toBe('403');
    expect(direct).toBe('blocked');
  });
});
