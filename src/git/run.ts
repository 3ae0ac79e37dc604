/**
 * git on the host, as the user: their credential helpers and SSH agent, never the sandbox's. No
 * terminal prompts (a task runs in the background), so a missing credential fails instead of hanging.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorralError } from '../errors.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function git(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        env: { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
        maxBuffer: 64 << 20,
        timeout: opts.timeoutMs ?? 300_000,
      },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new CorralError(
              'GIT_FAILED',
              'git is not installed on this machine.',
              'Install git (apt-get install git).',
            ),
          );
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** git that must succeed: its own last error line becomes the message. */
export async function gitOk(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; what?: string } = {},
): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) {
    const detail = r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `exit ${r.code}`;
    throw new CorralError('GIT_FAILED', `${opts.what ?? `git ${args[0]}`} failed: ${detail}`);
  }
  return r.stdout;
}

/** The repository's top folder, or undefined when `dir` is not in a git work tree. */
export async function repoTop(dir: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await git(['rev-parse', '--show-toplevel'], { cwd: dir, ...(env ? { env } : {}) });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export async function headCommit(dir: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await git(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: dir, ...(env ? { env } : {}) });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * The working tree (new files included) against `base`, through a throwaway index: the user's own
 * index and staging stay untouched. `stat`: `git diff --stat`; otherwise the patch.
 */
export async function workingDiff(
  dir: string,
  base: string,
  opts: { stat?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const tmp = await mkdtemp(join(tmpdir(), 'corral-index-'));
  const env = { ...(opts.env ?? process.env), GIT_INDEX_FILE: join(tmp, 'index') };
  try {
    await gitOk(['read-tree', base], { cwd: dir, env });
    await gitOk(['add', '-A'], { cwd: dir, env });
    return await gitOk(['diff', '--cached', ...(opts.stat ? ['--stat'] : []), base], { cwd: dir, env });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
