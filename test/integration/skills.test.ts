/**
 * `corral skills` on real engines: a skill repository served by `git daemon` on 127.0.0.1 is added
 * at a tag (cloned on the host), pinned in the lockfile, and appears in Claude Code's skills folder
 * in the sandbox's home; a new upstream commit is reported by `sync` and taken by `sync --update`;
 * a plain local folder works too; `remove` makes the next sandbox delete the copy it installed,
 * while a folder the user made in the same skills folder is left alone.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
const gitIn = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=test', ...args], { cwd });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const skillMd = (body: string) => `---\nname: hello-skill\ndescription: says hello\n---\n${body}\n`;

for (const kind of TEST_ENGINES) {
  describe(`skills on ${kind}`, () => {
    let dir: string;
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let daemon: ChildProcess;
    let url: string;
    const repo = () => join(dir, 'served', 'skills.git');
    const profile = `skills${process.pid % 100000}`;
    const shell = (cmd: string) =>
      corral(['shell', 'claude', '--no-join', '--profile', profile, '--', 'sh', '-c', cmd], { cwd: ws, env });
    const lock = async () => JSON.parse(await readFile(join(dir, 'data/skills/skills.lock.json'), 'utf8'));

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-skills-')));
      ws = join(dir, 'ws');
      await mkdir(ws);
      await mkdir(join(repo(), 'skills', 'hello'), { recursive: true });
      await writeFile(join(repo(), 'skills', 'hello', 'SKILL.md'), skillMd('Say hello, version one.'));
      await writeFile(join(repo(), 'README.md'), 'not a skill\n');
      await gitIn(repo(), 'init', '-q', '-b', 'main');
      await gitIn(repo(), 'add', '-A');
      await gitIn(repo(), 'commit', '-qm', 'one');
      await gitIn(repo(), 'tag', 'v1');
      const port = await freePort();
      daemon = spawn(
        'git',
        [
          'daemon',
          '--reuseaddr',
          '--export-all',
          `--base-path=${join(dir, 'served')}`,
          '--listen=127.0.0.1',
          `--port=${port}`,
        ],
        { stdio: 'ignore' },
      );
      url = `git://127.0.0.1:${port}/skills.git`;
      for (let i = 0; i < 50; i++) {
        const r = await run('git', ['ls-remote', url]).catch(() => undefined);
        if (r) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await writeFile(join(dir, 'config.yaml'), 'network: none\ncredential_check: false\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    }, 300_000);

    afterAll(async () => {
      daemon?.kill();
      await run(kind, ['volume', 'rm', '-f', `corral-claude-${profile}-home`]).catch(() => {});
    });

    it('adds a skill from git at a tag, locks it, and installs it into the agent home', async () => {
      const add = await corral(['skills', 'add', `${url}#v1`, '--agent', 'claude', '--json'], { env });
      expect(add.code, add.stderr).toBe(0);
      const tagged = (await gitIn(repo(), 'rev-parse', 'v1')).stdout.trim();
      const l = await lock();
      expect(l.version).toBe(1);
      expect(l.skills).toEqual([
        {
          name: 'hello-skill',
          source: url,
          ref: 'v1',
          commit: tagged,
          path: 'skills/hello',
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          agents: ['claude'],
        },
      ]);
      expect(JSON.parse(add.stdout)).toEqual(l.skills);
      // A folder the user made by hand in the same skills folder, which corral must not touch.
      const r = await shell(
        'mkdir -p ~/.claude/skills/mine && echo own > ~/.claude/skills/mine/SKILL.md; cat ~/.claude/skills/hello-skill/SKILL.md; stat -c %U ~/.claude/skills/hello-skill/SKILL.md',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Say hello, version one.');
      expect(r.stdout.trim().split('\n').at(-1)).toBe('agent');
      const list = JSON.parse((await corral(['skills', 'list', '--json'], { env })).stdout);
      expect(list.skills[0]).toMatchObject({ name: 'hello-skill', stored: true });
    }, 180_000);

    it('reports an upstream change on sync and takes it with --update', async () => {
      await writeFile(join(repo(), 'skills', 'hello', 'SKILL.md'), skillMd('Say hello, version two.'));
      await gitIn(repo(), 'commit', '-qam', 'two');
      await gitIn(repo(), 'tag', '-f', 'v1');
      const before = await lock();
      const sync = await corral(['skills', 'sync', '--json'], { env });
      expect(sync.code, sync.stderr).toBe(0);
      const [res] = JSON.parse(sync.stdout);
      expect(res).toMatchObject({ name: 'hello-skill', status: 'ok', upstreamChanged: true, updated: false });
      expect(res.upstreamHash).not.toBe(before.skills[0].hash);
      expect(await lock()).toEqual(before);
      // Still the locked version in the sandbox.
      expect((await shell('cat ~/.claude/skills/hello-skill/SKILL.md')).stdout).toContain('version one');
      const upd = await corral(['skills', 'sync', '--update', '--json'], { env });
      expect(JSON.parse(upd.stdout)[0]).toMatchObject({ updated: true, hash: res.upstreamHash });
      expect((await lock()).skills[0].commit).toBe((await gitIn(repo(), 'rev-parse', 'HEAD')).stdout.trim());
      expect((await shell('cat ~/.claude/skills/hello-skill/SKILL.md')).stdout).toContain('version two');
    }, 180_000);

    it('adds a plain local folder, and remove deletes only what corral installed', async () => {
      const local = join(dir, 'local-skill');
      await mkdir(local);
      await writeFile(join(local, 'SKILL.md'), '---\nname: local-one\ndescription: x\n---\nLocal skill.\n');
      const add = await corral(['skills', 'add', local], { env });
      expect(add.code, add.stderr).toBe(0);
      expect((await lock()).skills.find((s: { name: string }) => s.name === 'local-one')).toMatchObject({
        source: local,
        path: '',
        agents: ['*'],
      });
      expect((await shell('cat ~/.claude/skills/local-one/SKILL.md')).stdout).toContain('Local skill.');
      for (const name of ['hello-skill', 'local-one']) {
        const rm = await corral(['skills', 'remove', name], { env });
        expect(rm.code, rm.stderr).toBe(0);
      }
      expect((await lock()).skills).toEqual([]);
      const after = await shell('ls ~/.claude/skills');
      expect(after.stdout.trim().split('\n')).toEqual(['mine']);
      const missing = await corral(['skills', 'remove', 'hello-skill'], { env });
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('No skill named hello-skill');
    }, 180_000);
  });
}
