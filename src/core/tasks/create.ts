/**
 * `corral task create`: decide where the work happens (the user's folder, a fresh clone of a git
 * URL or of an issue's repository, optionally a worktree of it), record the task, and hand it to
 * a background runner (`corral task _run ID`) that outlives the caller. Everything that can be
 * wrong with the input is checked before anything is made; a failure after that removes what
 * was made.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveAgent } from '../../agents/index.js';
import { CorralError } from '../../errors.js';
import { cloneRepo, fetchIssue, parseIssueUrl, parseRepoSpec, redactUrl } from '../../git/remote.js';
import { headCommit } from '../../git/run.js';
import { mainRepo, removeWorktree, validateWorktreeName } from '../../git/worktree.js';
import { dataDir } from '../../tasks/store.js';
import { containerName, resolveWorkspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import { profileFor } from '../start/launch.js';
import { agentWorktree } from '../start/work.js';
import type { CreateTaskInput, TaskStartOptions } from '../types.js';
import { withStore } from './records.js';

// Two levels below the package root in src/ and in the bundle alike (see scripts/bundle.mjs).
const CLI = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));

export interface TaskOptions extends TaskStartOptions {
  /** The commit the work started from, for the diff stat. */
  base?: string | undefined;
}

export async function createTask(ctx: CoreContext, input: CreateTaskInput): Promise<{ id: string }> {
  const agent = resolveAgent(input.agent);
  if (!agent.endpoint?.promptArgs.length) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no headless mode corral can start.`,
      agent.notes.join(' ') || undefined,
    );
  }
  const sources = [input.repo, input.url, input.workdir].filter(Boolean).length;
  if (sources > 1)
    throw new CorralError('BAD_INPUT', 'Give one of -w DIR, --repo URL or an issue/PR URL, not several.');
  const issue = input.url ? parseIssueUrl(input.url) : undefined;
  if (input.url && !issue) {
    throw new CorralError(
      'BAD_INPUT',
      `"${redactUrl(input.url)}" is not a GitHub issue or pull request URL.`,
      'Use https://github.com/OWNER/REPO/issues/N or …/pull/N (a plain repository: --repo URL).',
    );
  }
  const repo = issue?.repo ?? (input.repo ? parseRepoSpec(input.repo) : undefined);
  let prompt = input.prompt?.trim();
  if (!prompt && !issue)
    throw new CorralError('BAD_INPUT', 'What should the agent do?', 'Give the task with -p "…".');
  const worktreeName = typeof input.worktree === 'string' ? validateWorktreeName(input.worktree) : undefined;
  const id = randomBytes(4).toString('hex');
  // The user's own folder: it must exist (and be a repository, for a worktree) before anything is made.
  const local = repo ? undefined : (await resolveWorkspace(input.workdir ?? ctx.cwd)).path;
  if (local && input.worktree) await mainRepo(local, ctx.env);

  const made: (() => Promise<void>)[] = [];
  try {
    let workspace = local ?? join(dataDir(ctx.env), 'workspaces', id);
    if (repo) {
      await mkdir(join(dataDir(ctx.env), 'workspaces'), { recursive: true, mode: 0o700 });
      await cloneRepo(repo, workspace, ctx.env);
      made.push(() => rm(workspace, { recursive: true, force: true }));
      ctx.note(`corral: cloned ${redactUrl(repo.url)} into ${workspace}`);
    }
    if (issue) {
      const verb = issue.kind === 'pr' ? 'Review' : 'Fix';
      const details = await fetchIssue(issue, ctx.env);
      if ('skipped' in details) ctx.note(`corral: no title or body for ${issue.url}: ${details.skipped}`);
      const about = 'title' in details ? `\n\n${details.title}\n\n${details.body}`.trimEnd() : '';
      prompt = prompt ? `${prompt}\n\n(${verb} ${issue.url})${about}` : `${verb} ${issue.url}${about}`;
    }
    let worktree: { name: string; branch: string } | undefined;
    if (input.worktree) {
      const wt = await agentWorktree(ctx, workspace, agent.name, worktreeName ?? `task-${id}`);
      made.push(() => removeWorktree(wt, ctx.env));
      workspace = wt.path;
      worktree = { name: wt.name, branch: wt.branch };
      ctx.note(`corral: ${agent.displayName} works in worktree ${wt.name} (branch ${wt.branch})`);
    }
    const ws = await resolveWorkspace(workspace);
    const { agent: _a, prompt: _p, workdir: _w, repo: _r, url: _u, worktree: wtOption, ...start } = input;
    const base = await headCommit(ws.path, ctx.env);
    const options: TaskOptions = {
      ...start,
      // The worktree is made already; its mounts go with it.
      ...(wtOption ? { worktree: worktree?.name } : {}),
      ...(base ? { base } : {}),
    };
    const container = `${containerName(ws, agent.name)}-task-${id}`;
    await withStore(ctx, (store) =>
      store.insert({
        id,
        agent: agent.name,
        prompt: prompt ?? '',
        workspace: ws.path,
        source: input.url ? redactUrl(input.url) : repo ? redactUrl(input.repo ?? repo.url) : ws.path,
        worktree: worktree?.name ?? null,
        branch: worktree?.branch ?? null,
        state: 'queued',
        exitCode: null,
        created: new Date().toISOString(),
        started: null,
        ended: null,
        diffStat: null,
        sessionId: null,
        profile: profileFor(start),
        container,
        pid: null,
        logFile: store.logFileFor(id),
        error: null,
        options: JSON.stringify(options),
      }),
    );
    const child = spawn(process.execPath, [CLI, 'task', '_run', id], {
      detached: true,
      stdio: 'ignore',
      cwd: ws.path,
      env: ctx.env,
    });
    child.unref();
    if (child.pid) await withStore(ctx, (store) => store.update(id, { pid: child.pid ?? null }));
    return { id };
  } catch (e) {
    for (const undo of made.reverse()) await undo().catch(() => {});
    throw e;
  }
}
