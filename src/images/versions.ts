/**
 * Turning a requested agent version (`latest`, a range, an exact version) into the exact version
 * to install. The registry calls live in build.ts; these are the pure parts, tested on their own.
 * npm understands semver ranges itself (`npm view pkg@^2 version`); PyPI has no such query, so
 * ranges for pip agents are matched here against the release list, PEP 440 style.
 */

/** An exact version needs no registry: 1.2.3, 1.2.3-beta.1, 3.0.2rc1, 2.1.0.post1. */
export function isExactVersion(v: string): boolean {
  return /^v?\d+\.\d+\.\d+(?:[-.+]?[0-9A-Za-z][0-9A-Za-z.+-]*)?$/.test(v);
}

/** `npm view <pkg>@<req> version --json`: a string for one match, an ascending array for a range. */
export function parseNpmViewVersion(stdout: string): string | undefined {
  const text = stdout.trim();
  if (!text) return undefined;
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed === 'string') return parsed;
  if (Array.isArray(parsed)) {
    const last = parsed.at(-1);
    return typeof last === 'string' ? last : undefined;
  }
  return undefined;
}

interface Pep440 {
  release: number[];
  pre: boolean;
  post: number;
}

const PEP440 =
  /^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)\d*)?(?:[-_.]?post(\d+))?(?:[-_.]?dev\d*)?$/i;

function parsePep440(v: string): Pep440 | undefined {
  const m = PEP440.exec(v.trim());
  if (!m) return undefined;
  return {
    release: m[1]!.split('.').map(Number),
    pre: Boolean(m[2]) || /dev/i.test(v),
    post: m[3] ? Number(m[3]) : -1,
  };
}

function compareRelease(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

function compare(a: Pep440, b: Pep440): number {
  // A pre-release sorts before its final release; pre-releases are excluded before comparing anyway.
  return compareRelease(a.release, b.release) || Number(b.pre) - Number(a.pre) || a.post - b.post;
}

type Test = (v: Pep440) => boolean;

function prefix(spec: string): Test {
  const want = spec.split('.').map(Number);
  return (v) => want.every((n, i) => (v.release[i] ?? 0) === n);
}

/** One clause: `>=3.0`, `<4`, `~=3.1`, `==3.0.*`, `!=3.0.1`, or npm-style `^3.0.0` / `~3.0`. */
function clause(raw: string): Test {
  const s = raw.trim();
  if (/^\d+(\.\d+)*(\.[x*])?$/.test(s)) return prefix(s.replace(/\.[x*]$/, ''));
  const m = /^(~=|===|==|!=|<=|>=|<|>|\^|~)\s*v?(\d+(?:\.\d+)*)(\.\*)?$/.exec(s);
  if (!m) throw new Error(`cannot read version range "${raw}"`);
  const [, op, num, star] = m as unknown as [string, string, string, string | undefined];
  const ref = num.split('.').map(Number);
  const cmp = (v: Pep440) => compareRelease(v.release, ref);
  if (star) {
    if (op === '==') return prefix(num);
    if (op === '!=') return (v) => !prefix(num)(v);
    throw new Error(`"${op}" cannot take a wildcard in "${raw}"`);
  }
  const upper = (i: number): number[] => [...ref.slice(0, i), (ref[i] ?? 0) + 1];
  const below = (bound: number[]) => (v: Pep440) => compareRelease(v.release, bound) < 0;
  switch (op) {
    case '==':
    case '===':
      return (v) => cmp(v) === 0;
    case '!=':
      return (v) => cmp(v) !== 0;
    case '<=':
      return (v) => cmp(v) <= 0;
    case '>=':
      return (v) => cmp(v) >= 0;
    case '<':
      return (v) => cmp(v) < 0;
    case '>':
      return (v) => cmp(v) > 0;
    case '~=': {
      // ~=3.1.2 means >=3.1.2, ==3.1.*; needs at least two parts.
      if (ref.length < 2) throw new Error(`"~=" needs a version with two parts in "${raw}"`);
      const lt = below(upper(ref.length - 2));
      return (v) => cmp(v) >= 0 && lt(v);
    }
    case '^': {
      const first = ref.findIndex((n) => n !== 0);
      const lt = below(upper(first === -1 ? ref.length - 1 : first));
      return (v) => cmp(v) >= 0 && lt(v);
    }
    default: {
      // npm's ~1.2.3 allows patch updates, ~1 minor updates.
      const lt = below(upper(ref.length > 1 ? 1 : 0));
      return (v) => cmp(v) >= 0 && lt(v);
    }
  }
}

/** The part of PyPI's JSON API (https://pypi.org/pypi/<pkg>/json) this needs. */
export interface PypiProject {
  info: { version: string };
  releases: Record<string, { yanked?: boolean }[]>;
}

/**
 * The newest release of a PyPI project matching `requested` (`latest`, or comma-joined clauses),
 * skipping pre-releases, yanked releases and releases without files.
 */
export function pickPypiVersion(project: PypiProject, requested: string): string | undefined {
  const tests = requested === 'latest' ? [] : requested.split(',').map(clause);
  const candidates = Object.entries(project.releases)
    .filter(([, files]) => files.length > 0 && files.some((f) => !f.yanked))
    .map(([v]) => ({ v, p: parsePep440(v) }))
    .filter((c): c is { v: string; p: Pep440 } => c.p !== undefined && !c.p.pre)
    .filter((c) => tests.every((t) => t(c.p)))
    .sort((a, b) => compare(a.p, b.p));
  const best = candidates.at(-1)?.v;
  if (best || requested !== 'latest') return best;
  // A project with only pre-releases: PyPI's own idea of its latest version.
  return project.info.version || undefined;
}
