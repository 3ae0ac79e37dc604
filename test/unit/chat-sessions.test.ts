/**
 * Multi-agent sessions' pure parts: who a message is addressed to, the store's history and its
 * lost answers; and atomic JSON writes from one process at once (parallel starts collided).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/config/json-store.js';
import { addressOf, reconcile } from '../../src/core/chats/records.js';
import { ChatStore } from '../../src/tasks/chat-store.js';

describe('addressOf', () => {
  const agents = ['claude', 'codex'];
  it('@all, one agent, several (by alias), none', () => {
    expect(addressOf('@all  What now?', agents, 's')).toEqual({ targets: agents, text: 'What now?' });
    expect(addressOf('@claude fix it', agents, 's')).toEqual({ targets: ['claude'], text: 'fix it' });
    expect(addressOf('@x, @claude: both of you', agents, 's')).toEqual({
      targets: ['claude', 'codex'],
      text: 'both of you',
    });
    expect(addressOf('no address', agents, 's')).toEqual({ targets: agents, text: 'no address' });
    // An @ later in the text is just text.
    expect(addressOf('@codex mail me@example.com', agents, 's').text).toBe('mail me@example.com');
  });
  it('an agent the session lacks, or nothing to say, is refused', () => {
    expect(() => addressOf('@gemini hi', agents, 'pair')).toThrow('No agent "@gemini" in session pair.');
    expect(() => addressOf('@nobody hi', agents, 'pair')).toThrow(/No agent "@nobody"/);
    expect(() => addressOf('@claude   ', agents, 'pair')).toThrow('The message is empty.');
  });
});

describe('ChatStore', () => {
  it('keeps a session, its agents and history; an answer whose asker is gone becomes lost', async () => {
    const env = { CORRAL_DATA_DIR: await mkdtemp(join(tmpdir(), 'corral-chat-unit-')) };
    const s = ChatStore.open(env);
    const now = new Date().toISOString();
    s.insert(
      { id: 'abcd1234', name: 'pair', workspace: '/w', worktree: false, options: '{}', created: now },
      [
        {
          chatId: 'abcd1234',
          agent: 'claude',
          position: 0,
          workspace: '/w',
          worktree: null,
          branch: null,
          conversation: null,
        },
      ],
    );
    const dead = spawnSync('true').pid;
    const base = { chatId: 'abcd1234', turn: 1, exitCode: null, created: now, ended: null };
    s.addMessage({ ...base, author: 'user', text: 'hi', state: 'sent', pid: process.pid });
    s.addMessage({ ...base, author: 'claude', text: '', state: 'pending', pid: dead });
    s.setConversation('abcd1234', 'claude', 'conv-1');
    s.close();

    const again = ChatStore.open(env);
    expect(again.byName('pair')?.id).toBe('abcd1234');
    expect(again.byPrefix('abc').map((c) => c.name)).toEqual(['pair']);
    expect(again.agents('abcd1234')[0]?.conversation).toBe('conv-1');
    expect(again.nextTurn('abcd1234')).toBe(2);
    const [, answer] = reconcile(again, again.messages('abcd1234'));
    expect(answer?.state).toBe('lost');
    expect(again.messages('abcd1234')[1]?.state).toBe('lost');
    again.remove('abcd1234');
    expect(again.list()).toEqual([]);
    again.close();
  });
});

describe('writeFileAtomic', () => {
  it('many writes of one file from one process at once all land', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'corral-atomic-')), 'state.json');
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(file, `{"n":${i}}`)));
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('n');
  });
});
