/** Tasks' pure parts: git/issue URL parsing, agent session args, and the store's reconciliation (real SQLite). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSessionId, resolveAgent, sessionArgs } from '../../src/agents/index.js';
import { findTask, reconcile } from '../../src/core/tasks/records.js';
import { parseIssueUrl, parseRepoSpec, redactUrl } from '../../src/git/remote.js';
import { validateWorktreeName } from '../../src/git/worktree.js';
import { type TaskRecord, TaskStore } from '../../src/tasks/store.js';

describe('git and issue URLs', () => {
  it('takes git URLs with an optional #branch and refuses the rest', () => {
    expect(parseRepoSpec('https://example.com/o/r.git#feature/x')).toEqual({
      url: 'https://example.com/o/r.git',
      branch: 'feature/x',
    });
    expect(parseRepoSpec('git@github.com:o/r.git').url).toBe('git@github.com:o/r.git');
    expect(() => parseRepoSpec('ftp://example.com/r')).toThrow(/not one git clones from/);
    expect(() => parseRepoSpec('nonsense')).toThrow(/not a git URL/);
    expect(() => parseRepoSpec('https://example.com/r.git#--upload-pack=x')).toThrow(/not a branch name/);
  });

  it('keeps passwords out of what it records', () => {
    expect(redactUrl('https://user:s3cret@example.com/r.git')).toBe('https://example.com/r.git');
    expect(() => parseRepoSpec('ftp://user:s3cret@example.com/r')).toThrow(/^(?!.*s3cret)/);
  });

  it('reads GitHub and Enterprise issue and PR URLs', () => {
    expect(parseIssueUrl('https://github.com/o/r/issues/12')).toEqual({
      kind: 'issue',
      url: 'https://github.com/o/r/issues/12',
      repo: { url: 'https://github.com/o/r.git' },
      api: 'https://api.github.com/repos/o/r/issues/12',
    });
    expect(parseIssueUrl('https://ghe.example/o/r/pull/3#discussion')).toMatchObject({
      kind: 'pr',
      api: 'https://ghe.example/api/v3/repos/o/r/issues/3',
    });
    expect(parseIssueUrl('https://github.com/o/r')).toBeUndefined();
  });

  it('keeps worktree names to a safe shape', () => {
    expect(validateWorktreeName('fix-1.2')).toBe('fix-1.2');
    for (const bad of ['../x', 'A', '-x', 'a/b', 'x.lock', ''])
      expect(() => validateWorktreeName(bad), bad).toThrow(/Invalid worktree name/);
  });
});

describe('agent sessions', () => {
  it('names Claude Code conversations and reopens them, as data on the spec', () => {
    const claude = resolveAgent('claude');
    expect(sessionArgs(claude, 'assign', 'abc')).toEqual(['--session-id', 'abc']);
    expect(sessionArgs(claude, 'resume', 'abc')).toEqual(['--resume', 'abc']);
  });

  it("finds Codex's session id in its output", () => {
    const id = '0199a213-81c0-7800-8aa1-bbab2a035a53';
    expect(findSessionId(resolveAgent('codex'), `workdir: /workspace\nsession id: ${id}\n--------`)).toBe(id);
    expect(findSessionId(resolveAgent('claude'), `session id: ${id}`)).toBeUndefined();
  });
});

describe('the task store', () => {
  const record = (over: Partial<TaskRecord>): TaskRecord => ({
    id: 'aaaa1111',
    agent: 'claude',
    prompt: 'p',
    workspace: '/w',
    source: '/w',
    worktree: null,
    branch: null,
    state: 'running',
    exitCode: null,
    created: new Date(Date.now() - 60_000).toISOString(),
    started: null,
    ended: null,
    diffStat: null,
    sessionId: null,
    profile: 'default',
    container: 'c',
    pid: 2 ** 22 + 1,
    logFile: '/dev/null',
    error: null,
    options: '{}',
    ...over,
  });

  it('keeps records across opens, and marks a task whose runner is gone as lost', async () => {
    const env = { CORRAL_DATA_DIR: await mkdtemp(join(tmpdir(), 'corral-store-')) };
    const s1 = TaskStore.open(env);
    s1.insert(record({}));
    s1.insert(record({ id: 'aaaa2222', pid: process.pid, state: 'running' }));
    s1.close();
    // A "restart": a new store on the same file.
    const s2 = TaskStore.open(env);
    expect(s2.logFileFor('x')).toBe(join(env.CORRAL_DATA_DIR, 'tasks', 'x.log'));
    const lost = reconcile(s2, findTask(s2, 'aaaa1'));
    expect(lost.state).toBe('lost');
    expect(s2.get('aaaa1111')?.error).toMatch(/runner and sandbox are gone/);
    expect(() => findTask(s2, 'aaaa')).toThrow(/ambiguous/);
    expect(() => findTask(s2, 'ffff')).toThrow(/No task "ffff"/);
    s2.close();
  });
});
