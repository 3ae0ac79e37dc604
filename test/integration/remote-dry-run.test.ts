/**
 * What a remote engine (the test's second "machine", test/helpers/remote-host.ts) plans and
 * refuses before making anything. `--dry-run` prints what a real run does there: published ports
 * as SSH forwards from this machine (the lines printed work: run, the port answers here;
 * cancelled, it does not), never a relay container, and nothing is created on that machine.
 * `--isolation gvisor` on remote Podman is refused up front (its runtime service would start on
 * this machine), with nothing made on either machine; on remote Docker it runs there. And `corral
 * clean` takes away what a run left there: the copies of the gateway's folders, whose settings
 * hold the real key the gateway injects.
 */
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import {
  ensureRemoteHost,
  onRemote,
  REMOTE_ADDR,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote dry run: ${skip}`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port, timeout: 2000 });
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

describe.skipIf(Boolean(skip))('--dry-run on a remote engine', () => {
  let data: string;
  let sshDir: string;
  const made: string[] = [];
  const env = () => ({ CORRAL_SSH_CONFIG: SSH_CONFIG, CORRAL_DATA_DIR: data, CORRAL_SSH_DIR: sshDir });

  beforeAll(async () => {
    await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
    for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
    data = await mkdtemp(join(tmpdir(), 'corral-remote-dry-data-'));
    sshDir = await mkdtemp(join(tmpdir(), 'corral-remote-dry-ssh-'));
    for (const kind of TEST_ENGINES) {
      const added = await corral(['remote', 'add', `dry-${kind}`, REMOTE_URL, '--engine', kind], {
        env: env(),
      });
      expect(added.code, added.stderr).toBe(0);
    }
  }, 900_000);

  afterAll(async () => {
    for (const ws of made) await rm(ws, { recursive: true, force: true });
    for (const f of sshDir ? execSync(`ls ${sshDir}`).toString().split('\n') : []) {
      if (f.startsWith('cm-'))
        execSync(`ssh -o ControlPath=${join(sshDir, f)} -O exit ${REMOTE_ADDR} 2>/dev/null || true`);
    }
    for (const d of [data, sshDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  for (const kind of TEST_ENGINES) {
    it(`on ${kind} there: --port is planned as an SSH forward whose printed commands work, and nothing is made`, async () => {
      const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-dry-${kind}-`)));
      made.push(ws);
      const port = await freePort();
      const r = await corral(
        ['--remote', `dry-${kind}`, 'shell', 'claude', '--port', `${port}:8080`, '--dry-run', '--', 'true'],
        { cwd: ws, env: env() },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^# ${kind} on ssh://.*: corral uploads the folders`));
      // What the real run does: an SSH forward of 127.0.0.1:PORT here to the sandbox's socket there.
      const forward = lines.filter((l) => /^ssh .* -O forward -L /.test(l));
      const cancel = lines.filter((l) => /^ssh .* -O cancel -L /.test(l));
      expect(forward).toHaveLength(1);
      expect(forward[0]).toContain(` -L 127.0.0.1:${port}:/home/`);
      expect(forward[0]).toMatch(/\/8080\.sock /);
      expect(cancel).toHaveLength(1);
      // Not a relay container publishing the port on the engine's machine.
      expect(r.stdout).not.toContain('-ports ');
      expect(r.stdout).not.toContain(`-p 127.0.0.1:${port}:8080`);
      // Nothing of the workspace there: the plan made nothing.
      const mine = `--filter label=io.corral.workspace=${workspaceIdOf(ws)}`;
      expect(onRemote(`${kind} ps -aq ${mine} | wc -l; ${kind} network ls -q ${mine} | wc -l`)).toBe(
        '0\n0\n',
      );
      // The printed lines do what they say, through corral's master connection to that machine.
      expect(await answers(port)).toBe(false);
      execSync(forward[0]!, { stdio: 'pipe' });
      try {
        expect(await answers(port)).toBe(true);
      } finally {
        execSync(cancel[0]!, { stdio: 'pipe' });
      }
      expect(await answers(port)).toBe(false);
    });

    it(`on ${kind} there: --isolation gvisor is ${kind === 'podman' ? 'refused before anything is made, on either machine' : 'served by the runtime registered there'}`, async () => {
      const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-gvisor-${kind}-`)));
      made.push(ws);
      const r = await corral(
        ['--remote', `dry-${kind}`, 'shell', 'claude', '--isolation', 'gvisor', '--', 'uname', '-r'],
        { cwd: ws, env: env() },
      );
      const mine = `--filter label=io.corral.workspace=${workspaceIdOf(ws)}`;
      if (kind === 'podman') {
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/--isolation gvisor is not offered on the remote Podman engine ssh:\/\//);
        expect(r.stderr).toMatch(/hint: Use --isolation runc there/);
        expect(onRemote(`podman ps -aq ${mine} | wc -l; podman network ls -q ${mine} | wc -l`)).toBe(
          '0\n0\n',
        );
        // Nor here (where the runtime service would have made it).
        expect(
          execFileSync('podman', ['ps', '-aq', ...mine.split(' ')])
            .toString()
            .trim(),
        ).toBe('');
        return;
      }
      const runtimes = execSync("docker info --format '{{json .Runtimes}}'").toString();
      if (!runtimes.includes('corral-runsc')) {
        console.warn(
          '[skip] gVisor on remote Docker: corral-runsc is not registered in dockerd (scripts/setup does it)',
        );
        return;
      }
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout.trim()).toBe('4.4.0');
      await corral(['--remote', `dry-${kind}`, 'clean'], { cwd: ws, env: env() });
    });

    it(`on ${kind} there: \`corral clean\` removes the copies of the gateway's folders there, key and all`, async () => {
      const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-clean-${kind}-`)));
      made.push(ws);
      // Fake, made at run time: the gateway there injects it, so its settings copy holds it.
      const key = `sk-ant-api03-${randomBytes(24).toString('hex')}`;
      const withKey = { ...env(), ANTHROPIC_API_KEY: key };
      const r = await corral(
        ['--remote', `dry-${kind}`, 'shell', 'claude', '-e', 'ANTHROPIC_API_KEY', '--', 'true'],
        { cwd: ws, env: withKey },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      // Files there that hold the key (paths only: the key is never printed).
      const holding = () =>
        onRemote(`grep -rlF -e ${key} ~/.cache/corral-remote 2>/dev/null || true`)
          .split('\n')
          .filter(Boolean);
      expect(holding().length).toBeGreaterThan(0);
      const cleaned = await corral(['--remote', `dry-${kind}`, 'clean'], { cwd: ws, env: env() });
      expect(cleaned.code, cleaned.stderr.slice(-2000)).toBe(0);
      expect(cleaned.stdout + cleaned.stderr).toMatch(/the copies of .*gateways.* on ssh:\/\//);
      expect(holding()).toEqual([]);
      // And a run after the clean uploads its folders afresh and works.
      const again = await corral(['--remote', `dry-${kind}`, 'shell', 'claude', '--', 'true'], {
        cwd: ws,
        env: env(),
      });
      expect(again.code, again.stderr.slice(-2000)).toBe(0);
      await corral(['--remote', `dry-${kind}`, 'clean'], { cwd: ws, env: env() });
    });
  }
});
