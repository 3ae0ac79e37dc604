/**
 * The gVisor isolation level on real Podman and Docker: the sandbox's kernel is gVisor's (uname
 * says 4.4.0, not the host's), its gateway stays on runc, `--dry-run` and `corral doctor` say so,
 * files it writes come back to the host user, and a missing runsc is a clear error that leaves
 * nothing behind. The attack suites run on it unchanged with CORRAL_TEST_ISOLATION=gvisor.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES } from '../helpers/engines.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`gVisor isolation on ${kind}`, () => {
    let engine: ContainerEngine;
    let ws: string;
    let wsId: string;
    let env: NodeJS.ProcessEnv;
    const sh = (script: string, extra: string[] = [], e: NodeJS.ProcessEnv = {}) =>
      corral(['shell', 'claude', '--no-join', ...extra, '--', 'sh', '-c', script], {
        cwd: ws,
        env: { ...env, ...e },
      });
    /** The OCI runtime a container was created with, as the engine records it. */
    const runtimeOf = async (name: string) =>
      (
        await run(kind, [
          'inspect',
          '-f',
          kind === 'podman' ? '{{.OCIRuntime}}' : '{{.HostConfig.Runtime}}',
          name,
        ])
      ).stdout.trim();

    beforeAll(async () => {
      engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      ws = await realpath(await tempWorkspace('corral-gvisor-'));
      wsId = workspaceIdOf(ws);
      const cfg = await mkdtemp(join(tmpdir(), 'corral-gvcfg-'));
      await writeFile(join(cfg, 'config.yaml'), 'auto_remove: true\n');
      // CORRAL_ISOLATION unset: the flag (or its absence) decides, whatever the suite runs under.
      env = { CORRAL_ENGINE: kind, CORRAL_CONFIG: join(cfg, 'config.yaml'), CORRAL_ISOLATION: '' };
    }, 600_000);

    afterAll(async () => {
      if (!engine) return;
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      for (const c of await engine.list({ labels: [`io.corral.workspace=${wsId}`], all: true }))
        await engine.remove(c.id, { force: true }).catch(() => {});
    });

    it("runs the sandbox on gVisor's kernel, and on the host's without the flag", async () => {
      const g = await sh('uname -r; id -u', ['--isolation', 'gvisor', '--network', 'none']);
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout.trim().split('\n')).toEqual(['4.4.0', '1000']);
      const r = await sh('uname -r', ['--network', 'none']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).not.toBe('4.4.0');
      expect(r.stdout.trim()).toBe((await run('uname', ['-r'])).stdout.trim());
    }, 180_000);

    it('moves the sandbox to runsc behind the gateway and keeps the gateway on runc', async () => {
      const name = `corral-gvtest-${process.pid}-${kind}`;
      const d = await corral(
        ['shell', 'claude', '-d', '--name', name, '--isolation', 'gvisor', '--', 'sleep', '60'],
        { cwd: ws, env },
      );
      expect(d.code, d.stderr).toBe(0);
      try {
        expect(await runtimeOf(name)).toMatch(
          kind === 'podman' ? /runtimes\/[0-9a-f]{16}\/runsc$/ : /^corral-runsc$/,
        );
        expect(await runtimeOf(`corral-${wsId}-gateway`)).toMatch(/^(runc|)$/);
        // And the sandbox, on gVisor, still gets out through its gateway only (the proxy answers).
        const e = await corral(
          [
            'exec',
            name,
            '--',
            'sh',
            '-c',
            'uname -r; curl -s -o /dev/null -w "%{http_code}" -m 10 http://denied.invalid/',
          ],
          { cwd: ws, env },
        );
        expect(e.stdout.trim().split('\n')).toEqual(['4.4.0', '403']);
      } finally {
        await corral(['stop', name, '-f'], { cwd: ws, env });
      }
    }, 180_000);

    it('hands files the gVisor sandbox wrote back to the host user', async () => {
      const r = await sh('echo hi > made-in-gvisor && uname -r', ['--isolation', 'gvisor']);
      expect(r.code, r.stderr).toBe(0);
      const st = await stat(join(ws, 'made-in-gvisor'));
      expect([st.uid, st.gid]).toEqual([process.getuid!(), process.getgid!()]);
    }, 180_000);

    it("keeps the workspace's home writable across switches between runc and gvisor", async () => {
      // On rootful Podman the two levels see the sandbox user as different host uids (see
      // sandbox/volume-owners.ts); the home written under one must stay the agent's under the other.
      for (const level of ['runc', 'gvisor', 'runc', 'gvisor']) {
        const r = await sh(
          `echo ${level} >> ~/levels && mkdir -p ~/.corral && touch ~/.corral/probe && tail -1 ~/levels`,
          ['--isolation', level, '--network', 'none'],
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(level);
      }
    }, 240_000);

    it('shows the runtime in --dry-run', async () => {
      const r = await corral(['run', 'claude', '--isolation', 'gvisor', '--dry-run'], { cwd: ws, env });
      expect(r.code, r.stderr).toBe(0);
      const line = r.stdout
        .split('\n')
        .find((l) => l.startsWith(`${kind} run --rm --name corral-${wsId}-claude`));
      expect(line, r.stdout).toBeDefined();
      if (kind === 'podman')
        expect(line).toContain(
          '--runtime /usr/bin/runsc --runtime-flag network=none --runtime-flag host-uds=all --runtime-flag oci-seccomp',
        );
      else expect(line).toContain('--runtime corral-runsc');
      const plain = await corral(['run', 'claude', '--dry-run'], { cwd: ws, env });
      expect(plain.stdout).not.toContain('--runtime');
    }, 120_000);

    it('corral doctor says whether gVisor works here', async () => {
      const r = await corral(['doctor', '--engine', kind], { cwd: ws, env });
      expect(r.stdout).toMatch(
        new RegExp(`ok +isolation gvisor \\(${kind}\\): works: uname -r says 4\\.4\\.0`),
      );
    }, 120_000);

    it.runIf(kind === 'podman')(
      'names the missing runsc and the fix, and leaves nothing behind',
      async () => {
        const r = await sh('true', ['--isolation', 'gvisor'], { CORRAL_RUNSC: '/nonexistent/runsc' });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(
          '--isolation gvisor needs gVisor (runsc), and /nonexistent/runsc is not installed',
        );
        expect(r.stderr).toContain('scripts/setup');
        expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // one message, no stack
        const left = (await engine.list({ labels: [`io.corral.workspace=${wsId}`], all: true })).filter(
          (c) => c.labels['io.corral.role'] !== 'gateway',
        );
        expect(left.map((c) => c.name)).toEqual([]);
      },
      120_000,
    );
  });
}
