/**
 * The approval prompt in an attached run's terminal, with keys fed into a fake TTY: what each key
 * means, one prompt at a time, the terminal held while asking and released (with a repaint) after,
 * a prompt taken down when the request is settled elsewhere, and nothing from the sandbox reaching
 * the terminal as a control sequence.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApprovalQueue, type PendingApproval } from '../../src/bridge/approval-queue.js';
import { decide } from '../../src/bridge/approvals.js';
import { queuedApprover } from '../../src/bridge/ask.js';
import { describeApproval, keyAnswer, promptText, summarizeApproval } from '../../src/bridge/prompt.js';
import { TerminalPrompter } from '../../src/bridge/terminal-prompt.js';
import type { ContainerEngine } from '../../src/engine/index.js';
import { connect } from '../../src/sandbox/attach.js';

const pending = (over: Partial<PendingApproval> = {}): PendingApproval => ({
  id: '0123abcd',
  kind: 'command',
  workspace: '/ws',
  session: 's1',
  details: { command: 'npm test' },
  created: 0,
  expires: 60_000,
  pid: process.pid,
  ...over,
});

describe('keys', () => {
  it('y once, a always, n / Esc / Ctrl-C no; other keys and escape sequences skipped', () => {
    expect(keyAnswer('y')).toBe('once');
    expect(keyAnswer('Y')).toBe('once');
    expect(keyAnswer('a')).toBe('always');
    expect(keyAnswer('n')).toBe('deny');
    expect(keyAnswer('\x1b')).toBe('deny');
    expect(keyAnswer('\x03')).toBe('deny');
    expect(keyAnswer('\x1b[A')).toBeUndefined();
    expect(keyAnswer('\r')).toBeUndefined();
    expect(keyAnswer('x')).toBeUndefined();
    expect(keyAnswer('\x1bOA')).toBeUndefined();
    // Keys typed together: the first that means something.
    expect(keyAnswer('xn')).toBe('deny');
    expect(keyAnswer('\x1b[Aa')).toBe('always');
    expect(keyAnswer('ya')).toBe('once');
  });
});

describe('what the prompt shows', () => {
  it('a command with its control characters shown, not obeyed', () => {
    const text = promptText(pending({ details: { command: 'echo \x1b[2Jhi' } }), 'claude', 30_000);
    expect(text).toContain('run on the host: echo \\x1b[2Jhi');
    expect(text).toContain('(30 s, then no');
    expect(text).toContain('id 0123abcd');
    expect(text.replace(/\x1b\[[01]m/g, '')).not.toContain('\x1b');
  });

  it('a service by image and env key names; an unknown kind field by field', () => {
    const svc = describeApproval(
      pending({
        kind: 'service',
        details: { name: 'db', image: 'postgres:16', envKeys: ['POSTGRES_PASSWORD'] },
      }),
    );
    expect(svc).toEqual(['start a service: db (image postgres:16)', 'env: POSTGRES_PASSWORD']);
    const other = describeApproval(pending({ kind: 'mount', details: { path: '/x\x07' } }));
    expect(other).toEqual(['mount:', '  path: /x\\x07']);
    expect(summarizeApproval(pending())).toBe('npm test');
  });
});

/** A fake terminal: stdin keys, stderr text, and a record of hold/release. */
function terminal() {
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const events: string[] = [];
  const hold = {
    hold: () => events.push('hold'),
    release: (o?: { redraw?: boolean }) => events.push(o?.redraw ? 'release+redraw' : 'release'),
  };
  return { stdin, stderr, events, hold, text: () => text };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('terminal prompter', () => {
  it('asks one at a time, answers through the callback, then releases the terminal once', async () => {
    const t = terminal();
    const prompter = new TerminalPrompter({ stdin: t.stdin, stderr: t.stderr }, t.hold, 'claude', () => 0);
    const answers: string[] = [];
    const answer = (id: string) => async (a: string) => {
      answers.push(`${id}:${a}`);
      return true;
    };
    const s = new AbortController().signal;
    const first = prompter.ask(pending({ id: 'aaaaaaaa' }), s, answer('aaaaaaaa'));
    const second = prompter.ask(
      pending({ id: 'bbbbbbbb', details: { command: 'make' } }),
      s,
      answer('bbbbbbbb'),
    );
    await tick();
    expect(t.text()).toContain('aaaaaaaa');
    expect(t.text()).not.toContain('bbbbbbbb');
    t.stdin.write('x'); // ignored
    t.stdin.write('a');
    await first;
    await tick();
    expect(t.text()).toContain('bbbbbbbb');
    t.stdin.write('n');
    await second;
    expect(answers).toEqual(['aaaaaaaa:always', 'bbbbbbbb:deny']);
    expect(t.events).toEqual(['hold', 'release+redraw']);
    expect(t.text()).toContain('allowed always');
    expect(t.text()).toContain('refused');
  });

  it('takes the prompt down when the request is settled elsewhere; later keys go nowhere', async () => {
    const t = terminal();
    const prompter = new TerminalPrompter({ stdin: t.stdin, stderr: t.stderr }, t.hold, 'codex');
    const ctl = new AbortController();
    const answers: string[] = [];
    const shown = prompter.ask(pending(), ctl.signal, async (a) => {
      answers.push(a);
      return true;
    });
    await tick();
    ctl.abort(new Error('timeout'));
    await shown;
    t.stdin.write('y');
    await tick();
    expect(answers).toEqual([]);
    expect(t.text()).toContain('no answer in time: refused');
    expect(t.events).toEqual(['hold', 'release+redraw']);
  });

  it('with the queue: a key in the terminal or `corral approvals` from elsewhere, first wins', async () => {
    const root = await mkdtemp(join(tmpdir(), 'corral-prompt-'));
    try {
      const queue = new ApprovalQueue(join(root, 'q'));
      const t = terminal();
      const prompter = new TerminalPrompter({ stdin: t.stdin, stderr: t.stderr }, t.hold, 'claude');
      const approve = queuedApprover({ queue, timeoutMs: 5000, prompter });
      const opts = {
        workspace: root,
        session: 's1',
        approve,
        allowlistPath: join(root, 'allow.json'),
        timeoutMs: 5000,
      };
      // Answered by key.
      const byKey = decide('make a', opts);
      await tick();
      t.stdin.write('y');
      expect(await byKey).toMatchObject({ run: true, via: 'once' });
      // Answered from another terminal while the prompt is up: the prompt goes away.
      const byCli = decide('make b', opts);
      let list = await queue.list();
      for (let i = 0; !list.length && i < 50; i++) {
        await tick();
        list = await queue.list();
      }
      expect(await queue.answer(list[0]!.id, 'deny')).toBe(true);
      expect(await byCli).toEqual({ run: false, reason: 'the user declined', asked: true });
      await tick();
      expect(t.text()).toContain('answered with `corral approvals`');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('attach hold', () => {
  it('keeps output and keys while held, writes the output in order on release, nudges the size', async () => {
    const stream = new PassThrough();
    const toSandbox: string[] = [];
    const sink = new PassThrough();
    stream.write = ((c: Buffer) => {
      toSandbox.push(c.toString());
      return true;
    }) as typeof stream.write;
    const stdout = Object.assign(new PassThrough(), { isTTY: true, rows: 30, columns: 100 });
    let shown = '';
    stdout.on('data', (c: Buffer) => {
      shown += c.toString();
    });
    const stdin = new PassThrough();
    const sizes: string[] = [];
    let control: { hold(): void; release(o?: { redraw?: boolean }): void } | undefined;
    const undo = connect(
      {} as ContainerEngine,
      stream,
      { stdin, stdout, stderr: sink },
      {
        tty: true,
        stdin: true,
        resize: async (r, c) => {
          sizes.push(`${r}x${c}`);
        },
        control: (c) => {
          control = c;
        },
      },
    );
    stream.push('one ');
    await tick();
    control!.hold();
    stream.push('two ');
    stdin.write('k');
    await tick();
    expect(shown).toBe('one ');
    expect(toSandbox).toEqual([]);
    sizes.length = 0;
    control!.release({ redraw: true });
    stream.push('three');
    await tick();
    expect(shown).toBe('one two three');
    expect(sizes).toEqual(['30x99', '30x100']);
    stdin.write('j');
    await tick();
    expect(toSandbox).toEqual(['j']);
    undo();
  });
});

describe('prompts from the queue (corral attach to a detached run)', () => {
  it("shows the session's requests, answers by key, and takes down one answered elsewhere", async () => {
    const { promptFromQueue } = await import('../../src/bridge/queue-prompter.js');
    const root = await mkdtemp(join(tmpdir(), 'corral-qprompt-'));
    const queue = new ApprovalQueue(join(root, 'q'));
    const t = terminal();
    const stop = promptFromQueue(
      queue,
      's1',
      new TerminalPrompter({ stdin: t.stdin, stderr: t.stderr }, t.hold, 'claude'),
      50,
    );
    const until = async (text: string) => {
      for (let i = 0; !t.text().includes(text) && i < 100; i++) await tick();
      expect(t.text()).toContain(text);
    };
    try {
      const signal = new AbortController().signal;
      const req = (session: string, command: string) => ({
        kind: 'command',
        workspace: '/ws',
        session,
        command,
        signal,
      });
      // Another session's request is not shown here.
      await queue.add(req('s2', 'other'), 60_000);
      const mine = await queue.add(req('s1', 'make'), 60_000);
      const answered = queue.wait(mine, signal, 20);
      await until('run on the host: make');
      t.stdin.write('a');
      expect(await answered).toBe('always');
      const next = await queue.add(req('s1', 'make again'), 60_000);
      const elsewhere = queue.wait(next, signal, 20);
      await until('make again');
      expect(await queue.answer(next.id, 'deny')).toBe(true);
      expect(await elsewhere).toBe('deny');
      await until('answered with `corral approvals`');
      expect(t.text()).not.toContain('other');
    } finally {
      stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
