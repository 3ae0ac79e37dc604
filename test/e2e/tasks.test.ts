/**
 * Tasks, worktrees and resume with real Claude Code against the scripted model, on real engines:
 * a task from a git URL (served on loopback) produces a diff; an issue URL becomes the prompt with
 * the issue's title; two agents in worktrees edit the same file on their own branches and both
 * survive, the second merge is refused and leaves both sides intact; `corral resume` reopens the
 * conversation (the model sees the first prompt again); bad input fails once, cleanly.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { messages, startTestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import { type GitServer, initRepo, publish, sh, startGitServer } from '../helpers/git-server.js';

interface TaskJson {
  id: string;
  state: string;
  exitCode: number | null;
  workspace: string;
  prompt: string;
  diffStat: string | null;
  sessionId: string | null;
  branch: string | null;
  error: string | null;
}

const SCRIPT = `turns:
  - say: Working.
    run: echo "task was here" > result.txt; echo "edit $RANDOM$RANDOM" >> README.md; git branch --show-current > branch.txt 2>&1
  - text: Finished the task.
`;

for (const kind of TEST_ENGINES) {
  describe(`tasks on ${kind}`, () => {
    let model: ModelServer;
    let git: GitServer;
    let env: NodeJS.ProcessEnv;
    let data: string;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      model = await startModelServer({
        host: '0.0.0.0',
        script: await parseScript(SCRIPT, 'tasks script'),
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
      git = await startGitServer();
      const work = await initRepo(await mkdtemp(join(tmpdir(), 'corral-task-src-')), 'upstream readme\n');
      publish(git, work, 'o/r.git');
      git.issues.set('o/r#7', {
        title: 'Frobnicator explodes on Tuesdays',
        body: 'Steps: wait for Tuesday.',
      });
      data = await mkdtemp(join(tmpdir(), 'corral-task-data-'));
      env = { CORRAL_ENGINE: kind, CORRAL_DATA_DIR: data };
    });

    afterAll(async () => {
      await model?.close();
      await git?.close();
    });

    const json = async <T>(args: string[], cwd?: string): Promise<T> => {
      const r = await corral([...args, '--json'], { env, ...(cwd ? { cwd } : {}) });
      if (r.code !== 0) throw new Error(`corral ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };

    async function finished(id: string): Promise<TaskJson> {
      const deadline = Date.now() + 240_000;
      for (;;) {
        const t = await json<TaskJson>(['task', 'status', id]);
        if (!['queued', 'running'].includes(t.state)) return t;
        if (Date.now() > deadline) throw new Error(`task ${id} still ${t.state}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }

    const create = (args: string[], cwd?: string) =>
      json<{ id: string }>(['task', 'create', 'claude', '--model-url', model.url, ...args], cwd);

    it('a task from a git URL clones it on the host, runs headless and records a diff and a session', async () => {
      const { id } = await create(['--repo', `${git.url}/o/r.git#main`, '-p', 'Do the scripted thing.']);
      const t = await finished(id);
      if (t.state !== 'succeeded') console.error(t, (await corral(['task', 'logs', id], { env })).stdout);
      expect(t).toMatchObject({ state: 'succeeded', exitCode: 0 });
      expect(t.workspace.startsWith(await realpath(data))).toBe(true);
      expect(await readFile(join(t.workspace, 'result.txt'), 'utf8')).toBe('task was here\n');
      expect(t.diffStat).toMatch(/README\.md +\| 1 \+/);
      expect(t.diffStat).toMatch(/result\.txt/);
      expect(t.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      // The clone's remote is the URL; the task's log holds the agent's answer.
      expect(sh(t.workspace, 'remote', 'get-url', 'origin').trim()).toBe(`${git.url}/o/r.git`);
      expect((await corral(['task', 'logs', id], { env })).stdout).toContain('Finished the task.');
      expect((await json<TaskJson[]>(['task', 'list'])).map((x) => x.id)).toContain(id);

      // resume: the same conversation, so the model is sent the first prompt again.
      const before = model.requests.length;
      const r = await corral(
        [
          'resume',
          'claude',
          t.sessionId!.slice(0, 8),
          '--model-url',
          model.url,
          '--yolo',
          '-p',
          'And now the second step.',
        ],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      const bodies = model.requests.slice(before).map((q) => q.body ?? '');
      expect(
        bodies.some((b) => b.includes('Do the scripted thing.') && b.includes('And now the second step.')),
      ).toBe(true);
    });

    it('an issue URL clones its repository and makes "Fix <url>" with its title the prompt', async () => {
      const url = `${git.url}/o/r/issues/7`;
      const before = model.requests.length;
      const { id } = await create([url]);
      const t = await finished(id);
      expect(t.state).toBe('succeeded');
      expect(t.prompt).toBe(`Fix ${url}\n\nFrobnicator explodes on Tuesdays\n\nSteps: wait for Tuesday.`);
      expect(
        model.requests.slice(before).some((q) => q.body?.includes('Frobnicator explodes on Tuesdays')),
      ).toBe(true);
      // A PR whose details cannot be fetched still gets its default prompt.
      const pr = await create([`${git.url}/o/r/pull/9`]);
      expect((await json<TaskJson>(['task', 'status', pr.id])).prompt).toBe(`Review ${git.url}/o/r/pull/9`);
      await finished(pr.id);
    });

    it('two agents in worktrees edit the same file on their own branches; a conflicting merge is refused', async () => {
      const repo = await initRepo(await realpath(await mkdtemp(join(tmpdir(), 'corral-task-wt-'))));
      const [a, b] = await Promise.all([
        create(['--worktree', 'alpha', '-p', 'Edit the readme.'], repo),
        create(['--worktree', 'beta', '-p', 'Edit the readme.'], repo),
      ]);
      const [ta, tb] = await Promise.all([finished(a.id), finished(b.id)]);
      expect([ta.state, tb.state]).toEqual(['succeeded', 'succeeded']);
      expect([ta.branch, tb.branch]).toEqual(['corral/claude/alpha', 'corral/claude/beta']);
      // git works inside the sandbox on the worktree's branch; the repository's own folder is untouched.
      expect((await readFile(join(ta.workspace, 'branch.txt'), 'utf8')).trim()).toBe('corral/claude/alpha');
      expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('hello\n');
      expect(existsSync(join(repo, 'result.txt'))).toBe(false);
      const readmeA = await readFile(join(ta.workspace, 'README.md'), 'utf8');
      const readmeB = await readFile(join(tb.workspace, 'README.md'), 'utf8');
      expect(readmeA).not.toBe(readmeB);

      const list = await json<{ name: string }[]>(['worktree', 'list', '-w', repo]);
      expect(list.map((w) => w.name).sort()).toEqual(['alpha', 'beta']);
      expect((await corral(['worktree', 'diff', 'alpha', '-w', repo], { env })).stdout).toContain(
        '+task was here',
      );

      expect((await corral(['worktree', 'merge', 'alpha', '-w', repo], { env })).code).toBe(0);
      expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe(readmeA);
      const refused = await corral(['worktree', 'merge', 'beta', '-w', repo], { env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/conflicts in .*README\.md.*nothing was merged/);
      expect(refused.stderr.match(/^corral:/gm)).toHaveLength(1);
      // Both sides intact: the repository as after the first merge, no merge in progress, beta's work kept.
      expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe(readmeA);
      expect(existsSync(join(repo, '.git', 'MERGE_HEAD'))).toBe(false);
      expect(sh(repo, 'status', '--porcelain').trim()).toBe('');
      expect(await readFile(join(tb.workspace, 'README.md'), 'utf8')).toBe(readmeB);
      expect(sh(repo, 'show', 'corral/claude/beta:README.md')).toBe(readmeB);

      expect((await corral(['worktree', 'rm', 'beta', '-w', repo], { env })).code).toBe(0);
      expect(existsSync(tb.workspace)).toBe(false);
    });

    it('through the daemon: a task made over the API streams task.state events and a notification, and outlives a daemon restart', async () => {
      const d = await startTestDaemon(env);
      try {
        const events = d.ws('/api/events');
        await new Promise((r) => events.once('open', r));
        const ev = messages(events);
        const work = await initRepo(await realpath(await mkdtemp(join(tmpdir(), 'corral-task-api-'))));
        const made = await d.api<{ id: string }>('POST', '/api/tasks', {
          agent: 'claude',
          workdir: work,
          prompt: 'Through the daemon.',
          modelUrl: model.url,
        });
        expect(made.status).toBe(201);
        const { id } = made.body;
        const done = await ev.until(
          (m) => m.type === 'task.state' && m.data.id === id && m.data.state === 'succeeded',
          120_000,
        );
        expect(done.data).toMatchObject({ exitCode: 0, agent: 'claude' });
        await ev.until((m) => m.type === 'notification' && m.data.task === id);
        const states = ev.got
          .filter((m) => m.type === 'task.state' && m.data.id === id)
          .map((m) => m.data.state);
        expect(states.at(-1)).toBe('succeeded');
        expect((await d.api<{ text: string }>('GET', `/api/tasks/${id}/log`)).body.text).toContain(
          'Finished the task.',
        );
        expect((await d.api('GET', '/api/tasks/deadbeef')).status).toBe(404);
        expect((await d.api('POST', '/api/tasks', { agent: 'claude', workdir: work })).status).toBe(400);
        events.close();
        await d.stop();
        const again = await startTestDaemon(env);
        try {
          expect((await again.api<{ state: string }>('GET', `/api/tasks/${id}`)).body.state).toBe(
            'succeeded',
          );
        } finally {
          await again.stop();
        }
      } finally {
        await d.stop();
      }
    });

    it('bad input gets one clear error each and leaves nothing behind', async () => {
      const plain = await mkdtemp(join(tmpdir(), 'corral-task-plain-'));
      const tasksBefore = (await json<TaskJson[]>(['task', 'list'])).length;
      const clonesBefore = await readdir(join(data, 'workspaces')).catch(() => []);
      const cases: [string[], RegExp][] = [
        [
          ['task', 'create', 'claude', '-p', 'x', '--repo', 'ftp://example.invalid/r.git'],
          /is not a git URL/,
        ],
        [['task', 'create', 'claude', '-p', 'x', '--repo', `${git.url}/o/missing.git`], /Could not clone/],
        [
          ['task', 'create', 'claude', 'https://example.invalid/not/an-issue'],
          /not a GitHub issue or pull request URL/,
        ],
        [['task', 'create', 'claude', '-p', 'x', '-w', plain, '--worktree'], /not in a git repository/],
        [
          ['run', 'claude', '-w', plain, '--worktree', 'x', '--model-url', model.url, '-p', 'x'],
          /not in a git repository/,
        ],
        [['task', 'status', 'deadbeef'], /No task "deadbeef"/],
        [['task', 'logs', 'deadbeef'], /No task "deadbeef"/],
        [['task', 'cancel', 'nope'], /No task "nope"/],
      ];
      for (const [args, message] of cases) {
        const r = await corral(args, { env, cwd: plain });
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.match(/^corral:/gm), r.stderr).toHaveLength(1);
      }
      expect((await json<TaskJson[]>(['task', 'list'])).length).toBe(tasksBefore);
      expect(await readdir(join(data, 'workspaces')).catch(() => [])).toEqual(clonesBefore);
      expect(await readdir(plain)).toEqual([]);
      await writeFile(join(plain, 'x'), '');
    });
  });
}
