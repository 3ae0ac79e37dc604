/**
 * Worktrees for agents: each agent works in its own `git worktree` on a branch
 * `corral/<agent>/<name>`, kept under corral's data folder (not inside the repository), so two
 * agents on one repository never touch each other's files. The sandbox gets the worktree as its
 * workspace, the repository's git folder read-only (objects, refs: what git in the worktree reads)
 * and the worktree's own admin folder (index, HEAD) writable. Commits, merges and removal happen
 * on the host, by `corral worktree`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { CorralError } from '../errors.js';
import { git, gitOk, headCommit, repoTop, workingDiff } from './run.js';

export interface Worktree {
  name: string;
  agent: string;
  branch: string;
  path: string;
  /** The repository's main folder. */
  repo: string;
}

export interface WorktreeMounts {
  /** `HOST:SANDBOX[:rw]` specs for the sandbox. */
  mounts: string[];
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,47}$/;
export const BRANCH_PREFIX = 'corral/';

export function validateWorktreeName(name: string): string {
  if (!NAME.test(name) || name.includes('..') || name.endsWith('.lock')) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid worktree name "${name}".`,
      'Use 1-48 lowercase letters, digits, ".", "-" or "_", starting with a letter or digit.',
    );
  }
  return name;
}

export const newWorktreeName = (): string => randomBytes(3).toString('hex');

/** The repository `dir` belongs to (its main folder), or a clear refusal. */
export async function mainRepo(dir: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const top = await repoTop(dir, env);
  if (!top) {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `${dir} is not in a git repository, so it cannot have worktrees.`,
      'Run `git init` and commit first, or drop --worktree.',
    );
  }
  // From inside a worktree, the common dir's parent is the main folder.
  const common = (
    await gitOk(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: top, env })
  ).trim();
  const main = basename(common) === '.git' ? resolve(common, '..') : top;
  if (!(await headCommit(main, env))) {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `The repository at ${main} has no commit yet; a worktree branches from one.`,
      'Commit something first (`git commit --allow-empty -m init`).',
    );
  }
  return realpath(main);
}

export function worktreePath(root: string, repoId: string, name: string): string {
  return join(root, repoId, name);
}

/** All corral worktrees of the repository. */
export async function listWorktrees(repo: string, env?: NodeJS.ProcessEnv): Promise<Worktree[]> {
  const out = await gitOk(['worktree', 'list', '--porcelain'], { cwd: repo, env });
  const list: Worktree[] = [];
  for (const block of out.split('\n\n')) {
    const path = /^worktree (.+)$/m.exec(block)?.[1];
    const ref = /^branch refs\/heads\/(.+)$/m.exec(block)?.[1];
    if (!path || !ref?.startsWith(BRANCH_PREFIX)) continue;
    const [, agent = '', ...rest] = ref.split('/');
    list.push({ name: basename(path), agent, branch: ref, path, repo });
    void rest;
  }
  return list;
}

export async function findWorktree(repo: string, name: string, env?: NodeJS.ProcessEnv): Promise<Worktree> {
  const found = (await listWorktrees(repo, env)).find((w) => w.name === name);
  if (!found) {
    throw new CorralError(
      'NOT_FOUND',
      `No corral worktree "${name}" in ${repo}.`,
      'See `corral worktree list` (in the repository, or with -w).',
    );
  }
  return found;
}

/**
 * The agent's worktree `name` (made on first use from the repository's HEAD; reused after), with
 * the mounts git inside the sandbox needs.
 */
export async function ensureWorktree(
  repo: string,
  root: string,
  repoId: string,
  agent: string,
  name: string,
  env?: NodeJS.ProcessEnv,
): Promise<Worktree & WorktreeMounts> {
  validateWorktreeName(name);
  const branch = `${BRANCH_PREFIX}${agent}/${name}`;
  const existing = (await listWorktrees(repo, env)).find((w) => w.name === name);
  let wt: Worktree;
  if (existing) {
    if (existing.branch !== branch) {
      throw new CorralError(
        'BAD_INPUT',
        `Worktree "${name}" belongs to ${existing.branch}, not ${agent}.`,
        'Pick another name, or `corral worktree rm` it first.',
      );
    }
    wt = existing;
  } else {
    const path = worktreePath(root, repoId, name);
    if (existsSync(path)) {
      throw new CorralError(
        'BAD_INPUT',
        `${path} exists but is no worktree of ${repo}.`,
        'Remove it, or pick another name.',
      );
    }
    const taken = await git(['rev-parse', '--verify', '-q', `refs/heads/${branch}`], { cwd: repo, env });
    await mkdir(join(root, repoId), { recursive: true, mode: 0o700 });
    await gitOk(
      ['worktree', 'add', '--quiet', ...(taken.code === 0 ? [path, branch] : ['-b', branch, path, 'HEAD'])],
      { cwd: repo, env, what: 'git worktree add' },
    );
    wt = { name, agent, branch, path: await realpath(path), repo };
  }
  const common = (
    await gitOk(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: wt.path, env })
  ).trim();
  const admin = (
    await gitOk(['rev-parse', '--path-format=absolute', '--git-dir'], { cwd: wt.path, env })
  ).trim();
  if (!isAbsolute(common) || !isAbsolute(admin))
    throw new CorralError('GIT_FAILED', 'git gave relative paths.');
  return { ...wt, mounts: [`${common}:${common}`, `${admin}:${admin}:rw`] };
}

/** What the agent changed in its worktree (committed and not) since it branched off. */
export async function worktreeDiff(wt: Worktree, opts: { stat?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const base = (await gitOk(['merge-base', 'HEAD', wt.branch], { cwd: wt.repo, env: opts.env })).trim();
  return workingDiff(wt.path, base, opts);
}

const IDENTITY = ['-c', 'user.name=corral', '-c', 'user.email=corral@localhost'];

/** The user's git identity when they have one; corral's otherwise (a commit needs one). */
async function identity(dir: string, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await git(['config', 'user.email'], { cwd: dir, env });
  return r.code === 0 && r.stdout.trim() ? [] : IDENTITY;
}

/**
 * Merge the worktree's branch into the repository's current branch: the agent's uncommitted work is
 * committed on its branch first. A conflict aborts the merge: the repository is as it was, the
 * branch keeps the agent's commit, and the error names the files.
 */
export async function mergeWorktree(wt: Worktree, env?: NodeJS.ProcessEnv): Promise<{ merged: string }> {
  const status = await gitOk(['status', '--porcelain'], { cwd: wt.path, env });
  if (status.trim()) {
    await gitOk(['add', '-A'], { cwd: wt.path, env });
    await gitOk(
      [
        ...(await identity(wt.path, env)),
        'commit',
        '--quiet',
        '-m',
        `corral: ${wt.agent}'s work in ${wt.name}`,
      ],
      {
        cwd: wt.path,
        env,
        what: 'committing the worktree',
      },
    );
  }
  const dirty = await gitOk(['status', '--porcelain', '--untracked-files=no'], { cwd: wt.repo, env });
  if (dirty.trim()) {
    throw new CorralError(
      'BAD_INPUT',
      `${wt.repo} has uncommitted changes; merging now could mix them with ${wt.branch}.`,
      'Commit or stash them first.',
    );
  }
  const r = await git([...(await identity(wt.repo, env)), 'merge', '--no-ff', '--no-edit', wt.branch], {
    cwd: wt.repo,
    env,
  });
  if (r.code === 0) return { merged: wt.branch };
  const conflicts = (await git(['diff', '--name-only', '--diff-filter=U'], { cwd: wt.repo, env })).stdout
    .trim()
    .split('\n')
    .filter(Boolean);
  await git(['merge', '--abort'], { cwd: wt.repo, env });
  if (conflicts.length) {
    throw new CorralError(
      'MERGE_CONFLICT',
      `Merging ${wt.branch} conflicts in ${conflicts.join(', ')}; nothing was merged, and both the repository and the worktree are as they were.`,
      `Resolve it yourself (\`git merge ${wt.branch}\` in ${wt.repo}), or have the agent rebase in its worktree.`,
    );
  }
  throw new CorralError('GIT_FAILED', `git merge ${wt.branch} failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

export async function removeWorktree(wt: Worktree, env?: NodeJS.ProcessEnv): Promise<void> {
  await gitOk(['worktree', 'remove', '--force', wt.path], { cwd: wt.repo, env, what: 'git worktree remove' });
  await gitOk(['branch', '-D', wt.branch], { cwd: wt.repo, env, what: 'deleting the branch' });
}
