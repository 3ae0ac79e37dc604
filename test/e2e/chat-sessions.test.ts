/**
 * Multi-agent sessions with real Claude Code and Codex against the scripted model, on real engines:
 * `@all` gets an answer from each; a session made by the CLI is talked to through the daemon, and
 * after a daemon restart a send continues each agent's own conversation (the model is sent the
 * earlier turns again); `attach` takes messages on a prompt line; bad input fails once, cleanly.
 * And `task cancel` on a running task: cancelled, its sandbox gone.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  type RecordedRequest,
  startModelServer,
} from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { messages, startTestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import { initRepo } from '../helpers/git-server.js';

interface Message {
  id: number;
  turn: number;
  author: string;
  text: string;
  state: string;
  exitCode: number | null;
}
interface Session {
  id: string;
  name: string;
  agents: { agent: string; conversation: string | null; branch: string | null; workspace: string }[];
  turns: number;
  messages?: Message[];
}

const ANSWER = 'Scripted answer from the model.';

/** Which agent sent a request: Claude Code speaks Anthropic's API, Codex the Responses API. */
const WIRE = { claude: 'anthropic', codex: 'openai-responses' } as const;

for (const kind of TEST_ENGINES) {
  describe(`multi-agent sessions on ${kind}`, () => {
    let model: ModelServer;
    let sleeper: ModelServer;
    let worker: ModelServer;
    let env: NodeJS.ProcessEnv;
    let work: string;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await agentImage(engine, 'codex');
      const serve = async (script: string) =>
        startModelServer({
          host: '0.0.0.0',
          script: await parseScript(script, 'sessions script'),
          allow: isLocalOrContainerAddress,
          recordBodies: true,
        });
      model = await serve(`turns:\n  - text: ${ANSWER}\n`);
      // A command that never ends (Claude Code refuses a bare long sleep and the task would just finish).
      sleeper = await serve(
        'turns:\n  - say: Waiting.\n    run: "tail -f /dev/null  # intentional wait: the test cancels the task meanwhile"\n  - text: Done.\n',
      );
      worker = await serve(
        'turns:\n  - say: Working.\n    run: git branch --show-current > who.txt\n  - text: Wrote who.txt.\n',
      );
      env = { CORRAL_ENGINE: kind, CORRAL_DATA_DIR: await mkdtemp(join(tmpdir(), 'corral-sess-data-')) };
      work = await initRepo(await realpath(await mkdtemp(join(tmpdir(), 'corral-sess-ws-'))));
    });

    afterAll(async () => {
      await model?.close();
      await sleeper?.close();
      await worker?.close();
    });

    const json = async <T>(args: string[], input?: string): Promise<T> => {
      const r = await corral([...args, '--json'], { env, cwd: work, ...(input ? { input } : {}) });
      if (r.code !== 0) throw new Error(`corral ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    const bodiesSince = (from: number, agent: keyof typeof WIRE) =>
      model.requests
        .slice(from)
        .filter((q: RecordedRequest) => q.wire === WIRE[agent])
        .map((q) => q.body ?? '');

    it('@all gets an answer from each agent; through the daemon and after its restart each conversation continues', async () => {
      const made = await json<Session>([
        'session',
        'new',
        'pair',
        '--agents',
        'claude,codex',
        '--model-url',
        model.url,
      ]);
      expect(made.agents.map((a) => a.agent)).toEqual(['claude', 'codex']);
      expect(made.agents.every((a) => a.workspace === work)).toBe(true);

      const first = await json<{ turn: number; answers: Message[] }>([
        'session',
        'send',
        'pair',
        '@all First question: what is the plan?',
      ]);
      expect(first.turn).toBe(1);
      expect(first.answers.map((a) => [a.author, a.state, a.text]).sort()).toEqual([
        ['claude', 'done', ANSWER],
        ['codex', 'done', ANSWER],
      ]);
      const conversations = (await json<Session>(['session', 'show', 'pair'])).agents;
      for (const a of conversations) expect(a.conversation, a.agent).toMatch(/^[0-9a-f-]{36}$/);

      // One agent only, and the session made by the CLI is the daemon's too.
      const d = await startTestDaemon(env);
      let again: Awaited<ReturnType<typeof startTestDaemon>> | undefined;
      try {
        const events = d.ws('/api/events');
        await new Promise((r) => events.once('open', r));
        const ev = messages(events);
        const sent = await d.api<{ turn: number; pending: Message[] }>(
          'POST',
          '/api/sessions/pair/messages',
          {
            message: '@claude Second question, only for Claude.',
          },
        );
        expect(sent.status).toBe(202);
        expect(sent.body.pending.map((m) => m.author)).toEqual(['claude']);
        const answered = await ev.until(
          (m) =>
            m.type === 'session.message' &&
            (m.data.message as Message).author === 'claude' &&
            (m.data.message as Message).state === 'done',
          120_000,
        );
        expect((answered.data.message as Message).text).toBe(ANSWER);
        events.close();
        await d.stop();

        // A new daemon: the session, its history and each agent's conversation are still there.
        again = await startTestDaemon(env);
        const kept = await again.api<Session>('GET', `/api/sessions/${made.id.slice(0, 5)}`);
        expect(kept.status).toBe(200);
        expect(kept.body.messages!.map((m) => [m.turn, m.author])).toEqual([
          [1, 'user'],
          [1, 'claude'],
          [1, 'codex'],
          [2, 'user'],
          [2, 'claude'],
        ]);
        expect(kept.body.agents).toEqual(conversations);

        const before = model.requests.length;
        const events2 = again.ws('/api/events');
        await new Promise((r) => events2.once('open', r));
        const ev2 = messages(events2);
        const third = await again.api<{ pending: Message[] }>('POST', '/api/sessions/pair/messages', {
          message: '@all Third question, after the restart.',
        });
        expect(third.status).toBe(202);
        for (const agent of ['claude', 'codex'])
          await ev2.until(
            (m) =>
              m.type === 'session.message' &&
              (m.data.message as Message).author === agent &&
              (m.data.message as Message).state !== 'pending',
            120_000,
          );
        events2.close();
        const detail = (await again.api<Session>('GET', '/api/sessions/pair')).body;
        expect(
          detail.messages!.filter((m) => m.turn === 3 && m.author !== 'user').map((m) => m.state),
        ).toEqual(['done', 'done']);
        // The same conversations: each agent sends the model its earlier turns with the new one.
        const claude = bodiesSince(before, 'claude');
        expect(
          claude.some(
            (b) =>
              b.includes('First question') &&
              b.includes('Second question, only for Claude.') &&
              b.includes('Third question'),
          ),
        ).toBe(true);
        const codex = bodiesSince(before, 'codex');
        expect(codex.some((b) => b.includes('First question') && b.includes('Third question'))).toBe(true);
        // Codex was not asked the second question.
        expect(codex.some((b) => b.includes('Second question'))).toBe(false);
      } finally {
        await again?.stop();
        await d.stop();
      }

      // `session resume` by id prefix continues it from the CLI too.
      const before = model.requests.length;
      const resumed = await json<{ turn: number; answers: Message[] }>([
        'session',
        'resume',
        made.id.slice(0, 6),
        '@codex Fourth question.',
      ]);
      expect(resumed).toMatchObject({ turn: 4, answers: [{ author: 'codex', state: 'done' }] });
      expect(bodiesSince(before, 'codex').some((b) => b.includes('Third question'))).toBe(true);
    });

    it('--worktree: each agent works on its own branch; the repository is untouched', async () => {
      const repo = await initRepo(await realpath(await mkdtemp(join(tmpdir(), 'corral-sess-wt-'))));
      const made = await json<Session>([
        'session',
        'new',
        'split',
        '--agents',
        'claude,codex',
        '--worktree',
        '-w',
        repo,
        '--model-url',
        worker.url,
      ]);
      expect(made.agents.map((a) => a.branch)).toEqual([
        'corral/claude/session-split-claude',
        'corral/codex/session-split-codex',
      ]);
      const sent = await json<{ answers: Message[] }>(['session', 'send', 'split', '@all Write who.txt.']);
      expect(sent.answers.map((a) => a.state)).toEqual(['done', 'done']);
      for (const a of made.agents) {
        expect(a.workspace).not.toBe(repo);
        expect((await readFile(join(a.workspace, 'who.txt'), 'utf8')).trim()).toBe(a.branch);
      }
      expect(existsSync(join(repo, 'who.txt'))).toBe(false);
    });

    it('attach: a prompt line, answers printed per agent', async () => {
      await json(['session', 'new', 'chat', '--agents', 'c', '--model-url', model.url]);
      const r = await corral(['session', 'attach', 'chat'], {
        env,
        cwd: work,
        input: '@claude Hello over the prompt line.\n@nobody hi\n/quit\n',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`── claude ──\n${ANSWER}`);
      // A bad address is said on the prompt line, and the prompt carries on.
      expect(r.stderr).toContain('No agent "@nobody" in session chat.');
      const shown = await json<Session>(['session', 'show', 'chat']);
      expect(shown.messages!.map((m) => m.author)).toEqual(['user', 'claude']);
    });

    it('bad input gets one clear error each and makes nothing', async () => {
      const before = (await json<Session[]>(['session', 'list'])).length;
      const cases: [string[], RegExp][] = [
        [['session', 'new', 'x', '--agents', 'claude,nosuch'], /Unknown agent "nosuch"/],
        [['session', 'send', 'nope', '@all hi'], /No session "nope"/],
        [['session', 'show', 'deadbeef'], /No session "deadbeef"/],
        [['session', 'send', 'pair', '@gemini hi'], /No agent "@gemini" in session pair/],
        [['session', 'new', 'pair', '--agents', 'claude'], /A session "pair" exists already/],
        [
          ['session', 'new', 'y', '--agents', 'claude', '-w', tmpdir(), '--worktree'],
          /not in a git repository/,
        ],
      ];
      for (const [args, message] of cases) {
        const r = await corral(args, { env, cwd: work });
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.match(/^corral:/gm), r.stderr).toHaveLength(1);
      }
      expect((await json<Session[]>(['session', 'list'])).length).toBe(before);
      const d = await startTestDaemon(env);
      try {
        const bad = await d.api<{ error: { message: string } }>('POST', '/api/sessions/pair/messages', {
          message: '@nobody hi',
        });
        expect(bad.status).toBe(400);
        expect(bad.body.error.message).toBe('No agent "@nobody" in session pair.');
        expect((await d.api('GET', '/api/sessions/nope')).status).toBe(404);
        expect(
          (await d.api('POST', '/api/sessions', { name: 'z', agents: ['nosuch'], workdir: work })).status,
        ).toBe(400);
      } finally {
        await d.stop();
      }
    });

    it('task cancel stops a running task: cancelled, its sandbox gone', async () => {
      const engine = await engineFor(kind);
      const { id } = await json<{ id: string }>([
        'task',
        'create',
        'claude',
        '--model-url',
        sleeper.url,
        '-p',
        'Wait a long time.',
      ]);
      let t = await json<{ state: string; container: string }>(['task', 'status', id]);
      const deadline = Date.now() + 120_000;
      // Running, with its sandbox up and the agent inside the long command.
      while (
        !(t.state === 'running' && (await engine.inspect(t.container).catch(() => undefined))?.running)
      ) {
        if (Date.now() > deadline) throw new Error(`task ${id} never ran: ${JSON.stringify(t)}`);
        await new Promise((r) => setTimeout(r, 500));
        t = await json(['task', 'status', id]);
      }
      while (!sleeper.requests.some((q) => q.step === 0)) await new Promise((r) => setTimeout(r, 200));
      const cancelled = await json<{ state: string }>(['task', 'cancel', id]);
      expect(cancelled.state).toBe('cancelled');
      let gone = false;
      for (let i = 0; i < 40 && !gone; i++) {
        gone = !(await engine.inspect(t.container).catch(() => undefined));
        if (!gone) await new Promise((r) => setTimeout(r, 500));
      }
      expect(gone).toBe(true);
      // The runner finishes and keeps the state cancelled (not failed).
      await new Promise((r) => setTimeout(r, 2000));
      expect((await json<{ state: string }>(['task', 'status', id])).state).toBe('cancelled');
    });
  });
}
