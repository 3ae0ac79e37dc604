/**
 * `corral run/shell/exec/list/stop/logs/attach` against real Podman and Docker, through the built
 * CLI. Isolation claims are checked from inside the sandbox.
 */
import { mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../src/engine/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`sandbox on ${kind}`, () => {
    let engine: ContainerEngine;
    let ws: string;
    let wsId: string;
    let env: NodeJS.ProcessEnv;
    const run = (args: string[], extra: Parameters<typeof corral>[1] = {}) =>
      corral(args, { cwd: ws, env: { ...env, ...extra.env }, ...extra });

    beforeAll(async () => {
      engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      ws = await realpath(await tempWorkspace());
      wsId = workspaceIdOf(ws);
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-cfg-'));
      await writeFile(join(cfgDir, 'config.yaml'), 'auto_remove: true\n');
      env = { CORRAL_ENGINE: kind, CORRAL_CONFIG: join(cfgDir, 'config.yaml') };
    });

    afterAll(async () => {
      if (!engine) return;
      for (const c of await engine.list({ labels: [`io.corral.workspace=${wsId}`], all: true })) {
        await engine.remove(c.id, { force: true });
      }
    });

    // The workspace's gateway is no leftover: it lingers after a run by design and exits by itself
    // (egress.gateway_linger; gateway-linger.test.ts covers that). Everything else must be gone.
    const leftovers = async () =>
      (await engine.list({ labels: [`io.corral.workspace=${wsId}`], all: true })).filter(
        (c) => c.labels['io.corral.role'] !== 'gateway',
      );

    it('runs as a non-root user with no capabilities, no new privileges and no engine socket', async () => {
      const r = await run(
        [
          'shell',
          'claude',
          '--',
          'sh',
          '-c',
          // gVisor's /proc has no NoNewPrivs line: there prctl(PR_GET_NO_NEW_PRIVS) (157, 39) answers.
          'id -u; grep -E "^CapEff" /proc/self/status; grep -E "^NoNewPrivs" /proc/self/status || perl -e "print qq(NoNewPrivs:\\t), syscall(157, 39, 0, 0, 0, 0), qq(\\n)"; for p in /run/podman/podman.sock /var/run/docker.sock /run/docker.sock; do test -e $p || echo missing; done | grep -c missing; env | grep -c SECRET_HOST_VALUE',
        ],
        { env: { SECRET_HOST_VALUE: 'hunter2' } },
      );
      expect(r.stderr).not.toContain('unexpected error');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('1000');
      expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(lines[3]).toBe('3'); // all three socket paths missing
      expect(lines[4]).toBe('0'); // the host env is not forwarded
    });

    it('cannot regain root: sudo/su/setuid fail and host paths are absent', async () => {
      const r = await run([
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        // Listed with the shell's glob, not ls: the 2022 gVisor refuses the statx flags coreutils uses.
        'su -c id root </dev/null 2>&1 | head -1; (command -v sudo || echo nosudo); cat /root/.bashrc 2>&1 | head -1; test -e /etc/shadow && (cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable || echo shadow-denied); echo /*',
      ]);
      expect(r.stdout).not.toMatch(/uid=0/);
      expect(r.stdout).toContain('nosudo');
      expect(r.stdout).toContain('shadow-denied');
      expect(r.stdout).toMatch(/Permission denied/);
      // Nothing of the host is mounted but the workspace: no /work, /host, or the repo.
      expect(r.stdout).not.toMatch(/\bwork\b|\bhost\b/);
    });

    it('passes the exit status through and leaves no container behind', async () => {
      const r = await run(['shell', 'claude', '--', 'sh', '-c', 'exit 7']);
      expect(r.code).toBe(7);
      expect(await leftovers()).toEqual([]);
    });

    it('gives the invoking host user (root) the files the agent creates', async () => {
      const r = await run([
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        'mkdir -p out && echo data > out/made-by-agent.txt && id -u',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('1000');
      const st = await stat(join(ws, 'out/made-by-agent.txt'));
      expect(st.uid).toBe(process.getuid!());
      expect((await stat(join(ws, 'out'))).uid).toBe(process.getuid!());
      expect(await readFile(join(ws, 'out/made-by-agent.txt'), 'utf8')).toBe('data\n');
    });

    it('pipes stdin and stdout byte for byte and passes end of input', async () => {
      const input = Buffer.from([0x61, 0x62, 0x00, 0xff, 0x0a, 0x7b, 0x7d]);
      const r = await run(['shell', 'claude', '--', 'sh', '-c', 'od -An -tx1 | tr -s " \\n" " "'], { input });
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('61 62 00 ff 0a 7b 7d');
    });

    it('keeps login state across --rm runs in the per-agent volume', async () => {
      const token = `token-${Date.now()}`;
      let r = await run([
        'shell',
        'claude',
        '--rm',
        '--profile',
        `t${wsId.slice(0, 6)}`,
        '--',
        'sh',
        '-c',
        `mkdir -p ~/.claude && echo ${token} > ~/.claude/credentials`,
      ]);
      expect(r.code).toBe(0);
      expect(await leftovers()).toEqual([]);
      r = await run([
        'shell',
        'claude',
        '--profile',
        `t${wsId.slice(0, 6)}`,
        '--',
        'cat',
        '/home/agent/.claude/credentials',
      ]);
      expect(r.stdout.trim()).toBe(token);
      await engine.removeVolume(`corral-${wsId}-claude-t${wsId.slice(0, 6)}-home`);
    });

    it('keeps login state across an image rebuild', async () => {
      const profile = `r${wsId.slice(0, 6)}`;
      const token = `rebuild-${Date.now()}`;
      let r = await run([
        'shell',
        'claude',
        '--profile',
        profile,
        '--',
        'sh',
        '-c',
        `mkdir -p ~/.claude && echo ${token} > ~/.claude/credentials`,
      ]);
      expect(r.code).toBe(0);
      const before = (await engine.listImages(['io.corral.agent=claude'])).map((i) => i.id);
      r = await run(['image', 'build', 'claude', '--rebuild', '--no-cache']);
      expect(r.code).toBe(0);
      const after = (await engine.listImages(['io.corral.agent=claude'])).map((i) => i.id);
      expect(after.some((id) => !before.includes(id))).toBe(true); // a new image really was built
      r = await run([
        'shell',
        'claude',
        '--profile',
        profile,
        '--',
        'cat',
        '/home/agent/.claude/credentials',
      ]);
      expect(r.stdout.trim()).toBe(token);
      await engine.removeVolume(`corral-${wsId}-claude-${profile}-home`);
    });

    it('detaches, lists, execs, logs, attaches and stops', async () => {
      let r = await run([
        'shell',
        'claude',
        '-d',
        '--',
        'sh',
        '-c',
        'echo started; read line; echo "got:$line"; sleep 1',
      ]);
      expect(r.code).toBe(0);
      r = await run(['list', '--running', '--json']);
      const listed = (
        JSON.parse(r.stdout) as { workspace: string; running: boolean; agent: string }[]
      ).filter((s) => s.workspace === wsId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ agent: 'claude', running: true });

      r = await run(['exec', 'claude', '--', 'sh', '-c', 'id -u; exit 3']);
      expect(r.code).toBe(3);
      expect(r.stdout.trim()).toBe('1000');

      // A shell beside a running sandbox joins it; --no-join gets a fresh container.
      r = await run(['shell', 'claude', '--', 'sh', '-c', 'echo joined > /tmp/marker']);
      expect(r.code).toBe(0);
      r = await run(['exec', 'claude', '--', 'cat', '/tmp/marker']);
      expect(r.stdout.trim()).toBe('joined');
      r = await run([
        'shell',
        'claude',
        '--no-join',
        '--',
        'sh',
        '-c',
        'cat /tmp/marker 2>/dev/null || echo fresh',
      ]);
      expect(r.stdout.trim()).toBe('fresh');

      r = await run(['logs', 'claude']);
      expect(r.stdout).toContain('started');

      r = await run(['attach', 'claude'], { input: 'hello\n' });
      expect(r.stdout).toContain('got:hello');

      r = await run(['shell', 'claude', '-d', '--', 'sleep', '300']);
      expect(r.code).toBe(0);
      r = await run(['stop', 'claude']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/stopped corral-/);
      expect((await leftovers()).filter((c) => c.state === 'running')).toEqual([]);
    });

    for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) {
      it(`stops the sandbox and removes it on ${signal} (Ctrl-C, closed terminal, kill)`, async () => {
        const r = await run(['shell', 'claude', '--', 'sh', '-c', 'echo ready; sleep 120'], {
          onSpawn: (c) => {
            c.stdout?.on('data', (d: Buffer) => {
              if (d.toString().includes('ready')) c.kill(signal);
            });
          },
        });
        expect(r.code).toBe(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal]);
        expect(await leftovers()).toEqual([]);
      });
    }

    it('runs config init commands before the agent itself', async () => {
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-cfg-'));
      await writeFile(
        join(cfgDir, 'c.yaml'),
        'agents:\n  claude:\n    init:\n      - echo "init as $(id -u)" > init.txt\n',
      );
      const r = await run(['run', 'claude', '--', '--version'], {
        env: { CORRAL_CONFIG: join(cfgDir, 'c.yaml') },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
      expect(await readFile(join(ws, 'init.txt'), 'utf8')).toBe('init as 1000\n');
    });

    it('fails clearly, leaving nothing behind, for a missing image', async () => {
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-cfg-'));
      await writeFile(
        join(cfgDir, 'c.yaml'),
        'agents:\n  claude:\n    image: localhost/corral-test-missing:nope\n',
      );
      const profile = `m${wsId.slice(0, 6)}`;
      const r = await run(['shell', 'claude', '--no-pull', '--profile', profile, '--', 'true'], {
        env: { CORRAL_CONFIG: join(cfgDir, 'c.yaml') },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/corral-test-missing/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await leftovers()).toEqual([]);
      expect(await engine.volumeExists(`corral-${wsId}-claude-${profile}-home`)).toBe(false);
    });

    it('rejects bad input with a clear message', async () => {
      let r = await run(['run', 'clade']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Unknown agent "clade"/);
      expect(r.stderr).toMatch(/claude/);
      r = await run(['shell', 'claude', '-e', 'CORRAL_TEST_UNSET_VAR', '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/CORRAL_TEST_UNSET_VAR is not set/);
      r = await run(['shell', 'claude', '-w', '/nonexistent/dir', '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/does not exist/);
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-cfg-'));
      await writeFile(join(cfgDir, 'bad.yaml'), 'limits:\n  pids: many\n');
      r = await run(['shell', 'claude', '--', 'true'], { env: { CORRAL_CONFIG: join(cfgDir, 'bad.yaml') } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(join(cfgDir, 'bad.yaml'));
      expect(r.stderr).toMatch(/limits\.pids/);
      expect(await leftovers()).toEqual([]);
    });
  });
}
