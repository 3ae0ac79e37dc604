/**
 * The file-based approval queue: requests on disk (0600, plain fields only), the first answer wins,
 * a timeout is a no that also takes the answer slot, and stale requests are not offered.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalQueue, requestDetails } from '../../src/bridge/approval-queue.js';
import { decide } from '../../src/bridge/approvals.js';
import { queuedApprover } from '../../src/bridge/ask.js';

let root: string;
let q: ApprovalQueue;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'corral-approvals-'));
  q = new ApprovalQueue(join(root, 'approvals'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const req = (over: Record<string, unknown> = {}) => ({
  kind: 'command',
  workspace: '/ws/one',
  session: 'sess-a',
  command: 'npm test',
  signal: new AbortController().signal,
  ...over,
});

describe('approval queue', () => {
  it('writes a 0600 request with the plain fields and lists it', async () => {
    const p = await q.add(req({ envKeys: ['A', 'B'], secret: 42 }), 60_000);
    expect(p.id).toMatch(/^[0-9a-f]{8}$/);
    const file = join(root, 'approvals', 'sess-a', p.id, 'request.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored.details).toEqual({ command: 'npm test', envKeys: ['A', 'B'] });
    expect(JSON.stringify(stored)).not.toContain('signal');
    expect((await q.list()).map((x) => x.id)).toEqual([p.id]);
    expect(await q.list({ workspace: '/ws/other' })).toEqual([]);
  });

  it('keeps only strings and string lists as details', () => {
    expect(requestDetails({ kind: 'x', a: 'b', n: 1, l: ['c'], m: [1], o: {} })).toEqual({
      a: 'b',
      l: ['c'],
    });
  });

  it('the first answer wins; a second is refused', async () => {
    const ctl = new AbortController();
    const p = await q.add(req(), 60_000);
    const waiting = q.wait(p, ctl.signal, 50);
    expect(await q.answer(p.id, 'always')).toBe(true);
    expect(await q.answer(p.id, 'deny', 'sess-a')).toBe(false);
    expect(await waiting).toBe('always');
    // Settled: nothing left on disk, nothing to answer.
    expect(await readdir(join(root, 'approvals')).catch(() => [])).toEqual([]);
    expect(await q.answer(p.id, 'once')).toBe(false);
  });

  it('answers racing the waiter: exactly one is told it counted, and it is the one the waiter got', async () => {
    for (let round = 0; round < 40; round++) {
      const p = await q.add(req(), 60_000);
      const waiting = q.wait(p, new AbortController().signal, 5);
      const [a, b] = await Promise.all([q.answer(p.id, 'once'), q.answer(p.id, 'deny', 'sess-a')]);
      const got = await waiting;
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect(got).toBe(a ? 'once' : 'deny');
      // Late answers after the waiter settled are refused too.
      expect(await q.answer(p.id, 'always', 'sess-a')).toBe(false);
    }
    expect(await readdir(join(root, 'approvals')).catch(() => [])).toEqual([]);
  });

  it('an abort (timeout) is a no, and a late answer is told so', async () => {
    const ctl = new AbortController();
    const p = await q.add(req(), 10);
    const waiting = q.wait(p, ctl.signal, 50);
    ctl.abort(new Error('timeout'));
    expect(await waiting).toBe('deny');
    expect(await q.answer(p.id, 'once', 'sess-a')).toBe(false);
    expect(await q.list()).toEqual([]);
  });

  it('does not offer expired requests, or those of a process that is gone', async () => {
    const old = await q.add(req(), 1000, Date.now() - 5000);
    expect(await q.list()).toEqual([]);
    expect(await q.answer(old.id, 'once')).toBe(false);
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const p = await q.add(req(), 60_000);
    const file = join(root, 'approvals', 'sess-a', p.id, 'request.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), pid: Number(dead) }));
    expect(await q.list()).toEqual([]);
    // ...and its files are removed.
    expect(await readdir(join(root, 'approvals', 'sess-a'))).not.toContain(p.id);
  });

  it('rejects ids and sessions that are not plain names', async () => {
    expect(await q.answer('../../x', 'once')).toBe(false);
    expect(await q.answer('abcd1234', 'once', '../evil')).toBe(false);
    await expect(q.add(req({ session: '../up' }), 1000)).rejects.toThrow(/session/);
  });

  it('drives decide(): an answer from the queue runs, silence times out as no', async () => {
    const approve = queuedApprover({ queue: q, timeoutMs: 200 });
    const base = { workspace: root, session: 'sess-a', approve, allowlistPath: join(root, 'allowed.json') };
    const answered = decide('make build', { ...base, timeoutMs: 5000 });
    let pending = await q.list();
    for (let i = 0; !pending.length && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pending = await q.list();
    }
    expect(pending[0]?.details.command).toBe('make build');
    expect(await q.answer(pending[0]!.id, 'once')).toBe(true);
    expect(await answered).toMatchObject({ run: true, via: 'once' });

    const started = Date.now();
    const silent = await decide('make clean', { ...base, timeoutMs: 200 });
    expect(silent).toEqual({ run: false, reason: 'not approved (no answer in time)', asked: true });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await q.list()).toEqual([]);
  });
});
