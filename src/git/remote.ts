/**
 * Work from elsewhere: a git URL (`URL[#branch]`) cloned on the host, and GitHub issue and pull
 * request URLs (github.com or an Enterprise host: `<origin>/<owner>/<repo>/issues|pull/<n>`), whose
 * repository is cloned and whose title and body become the task's prompt when they can be fetched.
 */
import { rm } from 'node:fs/promises';
import { CorralError } from '../errors.js';
import { git, gitOk } from './run.js';

export interface RepoSpec {
  /** The URL as given, minus `#branch`. */
  url: string;
  branch?: string | undefined;
}

export interface IssueRef {
  kind: 'issue' | 'pr';
  url: string;
  repo: RepoSpec;
  /** The REST endpoint with the issue's (or PR's) title and body. */
  api: string;
}

const SCP_LIKE = /^[\w.-]+@[\w.-]+:[\w./~-]+$/;
const BRANCH = /^[\w./-]{1,200}$/;

export function parseRepoSpec(text: string): RepoSpec {
  const hash = text.indexOf('#');
  const url = hash < 0 ? text : text.slice(0, hash);
  const branch = hash < 0 ? undefined : text.slice(hash + 1);
  const bad = (why: string) =>
    new CorralError(
      'BAD_INPUT',
      `--repo "${redactUrl(text)}" is not a git URL: ${why}.`,
      'Use https://host/owner/repo.git, git://…, ssh://… or git@host:owner/repo.git, optionally with #branch.',
    );
  if (branch !== undefined && (!BRANCH.test(branch) || branch.startsWith('-') || branch.includes('..')))
    throw bad(`"${branch}" is not a branch name`);
  if (SCP_LIKE.test(url)) return { url, branch };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('it does not parse as a URL');
  }
  if (!['https:', 'http:', 'git:', 'ssh:', 'file:'].includes(u.protocol))
    throw bad(`the scheme ${u.protocol} is not one git clones from`);
  if (u.protocol !== 'file:' && !u.hostname) throw bad('it names no host');
  return { url, branch };
}

/** A URL without the user:password part, for records, logs and the clone's remote. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

const ISSUE = /^(https?:\/\/[^/]+)\/([\w.-]+)\/([\w.-]+)\/(issues|pull)\/(\d+)\/?(?:[?#].*)?$/;

export function parseIssueUrl(text: string): IssueRef | undefined {
  const m = ISSUE.exec(text);
  if (!m) return undefined;
  const [, origin, owner, name, kind, number] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const repo = name.replace(/\.git$/, '');
  const api =
    new URL(origin).hostname === 'github.com'
      ? `https://api.github.com/repos/${owner}/${repo}/issues/${number}`
      : `${origin}/api/v3/repos/${owner}/${repo}/issues/${number}`;
  return {
    kind: kind === 'pull' ? 'pr' : 'issue',
    url: `${origin}/${owner}/${repo}/${kind}/${number}`,
    repo: { url: `${origin}/${owner}/${repo}.git` },
    api,
  };
}

/**
 * The issue's title and body, or why not (unreachable, private, rate-limited): a task still starts
 * with the bare "Fix <url>" prompt. A GitHub token from the host env goes to api.github.com only.
 */
export async function fetchIssue(
  ref: IssueRef,
  env: NodeJS.ProcessEnv,
): Promise<{ title: string; body: string } | { skipped: string }> {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json', 'user-agent': 'corral' };
  const token = env.GITHUB_TOKEN ?? env.GH_TOKEN;
  if (token && new URL(ref.api).hostname === 'api.github.com') headers.authorization = `Bearer ${token}`;
  try {
    const r = await fetch(ref.api, { headers, signal: AbortSignal.timeout(5000) });
    if (!r.ok) return { skipped: `${ref.api} answered ${r.status}` };
    const j = (await r.json()) as { title?: unknown; body?: unknown };
    if (typeof j.title !== 'string') return { skipped: `${ref.api} sent no title` };
    return { title: j.title, body: typeof j.body === 'string' ? j.body : '' };
  } catch (e) {
    return { skipped: `${ref.api} not reachable (${(e as Error).message})` };
  }
}

/**
 * Clone into `dest` (which must not exist) with the host's git and credentials; the clone's remote
 * keeps no password. A failed clone leaves nothing behind.
 */
export async function cloneRepo(spec: RepoSpec, dest: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = ['clone', '--quiet', ...(spec.branch ? ['--branch', spec.branch] : []), '--', spec.url, dest];
  const r = await git(args, { env });
  if (r.code !== 0) {
    await rm(dest, { recursive: true, force: true });
    const detail = r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `exit ${r.code}`;
    throw new CorralError(
      'GIT_FAILED',
      `Could not clone ${redactUrl(spec.url)}${spec.branch ? ` (branch ${spec.branch})` : ''}: ${detail.replaceAll(spec.url, redactUrl(spec.url))}`,
      'Check the URL, the branch and that your own git can reach it (`git ls-remote URL`).',
    );
  }
  const clean = redactUrl(spec.url);
  if (clean !== spec.url) await gitOk(['remote', 'set-url', 'origin', clean], { cwd: dest, env });
}
