/**
 * A token's scope: which requests the gateway puts a brokered token on. The scope is judged on
 * the request the gateway sees (method, decoded path), so the sandbox cannot widen it; a request
 * that carries the token's placeholder outside the scope is refused with 403 and never reaches the
 * upstream with the real token.
 *
 * The GitHub kind knows where a repository is named in a path: `/repos/OWNER/NAME/…` on the API
 * hosts, `/OWNER/NAME(.git)/…` on github.com (git over HTTPS). With `repos` set, a request must name
 * one of them, unless an `allow` entry names its path exactly (no `*`): so `GET *` does not open
 * `/user/repos` or `POST /graphql` (which can reach every repository the token can) by accident.
 */
import { z } from 'zod';
import { checkPath } from './paths.js';

const ALLOW_ENTRY = /^(\*|[A-Z]+)\s+(\*|\/\S*)$/;
const REPO = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

export const TokenScopeSchema = z
  .object({
    kind: z.literal('github'),
    /** `owner/name`; absent: every repository the token reaches. */
    repos: z.array(z.string().regex(REPO, 'a repository as owner/name')).optional(),
    /** `METHOD /path` (`*` for any method; `*` in a path matches anything); absent: everything. */
    allow: z
      .array(z.string().regex(ALLOW_ENTRY, 'METHOD /path, e.g. "GET *" or "POST /repos/o/r/pulls"'))
      .optional(),
  })
  .strict();
export type TokenScope = z.output<typeof TokenScopeSchema>;

interface AllowEntry {
  method: string;
  path: RegExp;
  exact: boolean;
}

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

export function parseAllowEntry(text: string): AllowEntry {
  const m = ALLOW_ENTRY.exec(text.trim());
  if (!m) throw new Error(`not METHOD /path: ${text}`);
  const path = m[2]!;
  return {
    method: m[1]!,
    path: new RegExp(`^${path.split('*').map(escapeRegex).join('.*')}$`, 'i'),
    exact: !path.includes('*'),
  };
}

/** The repository a GitHub request names, lower-cased, or undefined when it names none. */
export function githubRepoOf(host: string, path: string): string | undefined {
  const parts = path.split('/').filter(Boolean);
  if (host === 'github.com') {
    if (parts.length < 2) return undefined;
    return `${parts[0]}/${parts[1]!.replace(/\.git$/i, '')}`.toLowerCase();
  }
  // api.github.com, uploads.github.com and GitHub Enterprise's /api/v3 prefix.
  const at = parts[0] === 'api' && parts[1] === 'v3' ? 2 : 0;
  if (parts[at] !== 'repos' || parts.length < at + 3) return undefined;
  return `${parts[at + 1]}/${parts[at + 2]}`.toLowerCase();
}

/** Why a request is outside the scope, or undefined when it is inside. */
export function scopeRefusal(
  scope: TokenScope,
  host: string,
  method: string,
  rawPath: string,
): string | undefined {
  const checked = checkPath(rawPath.replace(/[?#].*$/, ''));
  if (!checked.ok) return `the token's scope cannot judge ${rawPath}: ${checked.reason}`;
  const path = checked.path;
  const m = method.toUpperCase();
  const entries = (scope.allow ?? ['* *']).map(parseAllowEntry);
  const matched = entries.filter((e) => (e.method === '*' || e.method === m) && e.path.test(path));
  const what = `${m} ${host}${path}`;
  if (!matched.length)
    return `the GitHub token's scope does not allow ${what} (allow: ${scope.allow?.join(', ')})`;
  if (!scope.repos) return undefined;
  const repo = githubRepoOf(host, path);
  if (repo === undefined) {
    if (matched.some((e) => e.exact)) return undefined;
    return `the GitHub token is scoped to ${scope.repos.join(', ')} and ${what} names no repository (list its path exactly in allow to permit it)`;
  }
  if (scope.repos.some((r) => r.toLowerCase() === repo)) return undefined;
  return `the GitHub token is scoped to ${scope.repos.join(', ')}, not ${repo}`;
}
