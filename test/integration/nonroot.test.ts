/**
 * A non-root host user running corral gets their own uid on files the agent writes, while the
 * agent is still not root inside. Needs root to create the user (CI runs as root); the user gets
 * engine access through the docker group, as a real user would.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES } from '../helpers/engines.js';

const USER = 'corral-nonroot';
const UID = 2345;
const SOCKETS = { podman: '/run/podman/podman.sock', docker: '/var/run/docker.sock' } as const;
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('[skip] non-root ownership tests need root to create a test user');

describe.skipIf(!isRoot)('as a non-root host user', () => {
  const restore: (() => void)[] = [];

  beforeAll(() => {
    try {
      execFileSync('id', [USER], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['-m', '-u', String(UID), '-G', 'docker', USER]);
    }
    // Rootful Podman's socket is root-only; share it with the docker group for this test only.
    const st = execFileSync('stat', ['-c', '%g %a', SOCKETS.podman]).toString().trim().split(' ');
    execFileSync('chgrp', ['docker', SOCKETS.podman]);
    execFileSync('chmod', ['660', SOCKETS.podman]);
    restore.push(() => {
      execFileSync('chgrp', [st[0]!, SOCKETS.podman]);
      execFileSync('chmod', [st[1]!, SOCKETS.podman]);
    });
  });

  afterAll(() => {
    for (const r of restore) r();
  });

  for (const kind of TEST_ENGINES) {
    it(`${kind}: files the agent creates belong to the invoking user, and the agent is not root`, async () => {
      const engine = await engineFor(kind);
      const image = await agentImage(engine, 'claude');
      // The gateway's image is built as root here: the test user has no npm setup to fetch Node.
      await gatewayImage(engine);
      const home = `/home/${USER}`;
      const ws = await mkdtemp(join(home, `ws-${kind}-`));
      await chown(ws, UID, UID);
      const cfg = join(home, `config-${kind}.yaml`);
      await writeFile(cfg, `agents:\n  claude:\n    image: ${image}\n`);
      await chmod(cfg, 0o644);
      const r = await corral(
        [
          '--engine',
          `unix://${SOCKETS[kind]}`,
          'shell',
          'claude',
          '--',
          'sh',
          '-c',
          'id -u; echo hi > by-agent.txt; ls -ld ~ | cut -c1-10',
        ],
        { cwd: ws, asUser: USER, env: { HOME: home, CORRAL_CONFIG: cfg, XDG_RUNTIME_DIR: '' } },
      );
      if (r.code !== 0) console.error(r.stderr);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.code).toBe(0);
      const uidInside = Number(r.stdout.trim().split('\n')[0]);
      expect(uidInside).not.toBe(0);
      expect((await stat(join(ws, 'by-agent.txt'))).uid).toBe(UID);
    });
  }
});
