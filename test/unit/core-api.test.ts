/**
 * The core driven the way the daemon will drive it: a CoreContext with its own env, cwd and events,
 * no terminal, no commander. (Sandboxes themselves: the CLI's integration tests go through the same
 * use-cases on both engines.)
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApprovalQueue } from '../../src/bridge/approval-queue.js';
import {
  answerApprovals,
  CoreContext,
  type CoreEvents,
  listApprovals,
  listTranscripts,
  removeTranscripts,
  startSandbox,
  stopSandboxes,
} from '../../src/core/index.js';
import { silentProgress } from '../../src/images/progress.js';

let root: string;
let ws: string;
let notes: string[];
let ctx: CoreContext;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'corral-core-'));
  ws = await realpath(await mkdtemp(join(root, 'ws-')));
  vi.stubEnv('CORRAL_DATA_DIR', join(root, 'data'));
  vi.stubEnv('CORRAL_STATE_DIR', join(root, 'state'));
  notes = [];
  const events: CoreEvents = { note: (t) => notes.push(t), progress: () => silentProgress() };
  ctx = new CoreContext({ env: { CORRAL_DATA_DIR: join(root, 'data') }, cwd: ws, events });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(root, { recursive: true, force: true });
});

describe('core use-cases without a terminal', () => {
  it('lists and answers approvals of a workspace; a second answer is refused', async () => {
    const q = new ApprovalQueue();
    const signal = new AbortController().signal;
    const request = { kind: 'command', workspace: ws, session: 'sess-core', command: 'make', signal };
    const p = await q.add(request, 60_000);
    const listed = await listApprovals(ctx, { workdir: ws });
    expect(listed.map((a) => [a.id, a.kind, a.summary])).toEqual([
      [p.id, 'command', expect.stringContaining('make')],
    ]);
    expect(listed[0]).not.toHaveProperty('pid');
    const heard: string[] = [];
    const { answered } = await answerApprovals(ctx, { all: true, answer: 'once' }, (id, word) =>
      heard.push(`${id}: ${word}`),
    );
    expect(answered).toEqual([p.id]);
    expect(heard).toEqual([`${p.id}: allowed once`]);
    await expect(answerApprovals(ctx, { ids: [p.id], answer: 'deny' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: `Not waiting for an answer: ${p.id}.`,
    });
    await expect(answerApprovals(ctx, { answer: 'deny' })).rejects.toMatchObject({
      message: 'Which approval?',
    });
  });

  it('refuses bad input before touching an engine', async () => {
    await expect(startSandbox(ctx, { agent: 'no-such-agent' })).rejects.toThrow(
      /Unknown agent "no-such-agent"/,
    );
    await expect(stopSandboxes(ctx, {})).rejects.toMatchObject({ message: 'Nothing to stop.' });
    await expect(removeTranscripts(ctx, {})).rejects.toMatchObject({ message: 'Which sessions?' });
    expect(await listTranscripts(ctx)).toEqual([]);
    expect(notes).toEqual([]);
  });
});
