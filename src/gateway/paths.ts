/**
 * The path a path rule is matched against. Servers and frameworks decode percent-encoding, some
 * more than once, and some treat `%2f` as `/`: a path that reads `/ok/..%2fsecret` to the gateway can
 * be `/secret` to the upstream. So the gateway decodes until nothing changes, resolves dot
 * segments, and matches that; a path whose decoding adds dot segments, or which hides `/`, `\` or
 * `.` under more than one layer of encoding, is refused rather than forwarded, since no reading of
 * it is safe to bet on.
 */

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** One layer of percent-decoding that never throws: invalid UTF-8 becomes U+FFFD, stray `%` stays. */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%' && /^[0-9a-f]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `/a/./b/../c` → `/a/c`, with `\` read as `/` (some servers do); keeps a trailing slash. */
export function removeDotSegments(path: string): string {
  const segments = path.replace(/\\/g, '/').split('/');
  const out: string[] = [];
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length > 1) out.pop();
      if (last) out.push('');
      return;
    }
    out.push(seg);
  });
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

// `/`, `\` or `.` hidden under two or more layers of encoding: %252f, %255c, %252e, %25252e…
const DOUBLE_ENCODED = /%25(?:25)*(?:2f|5c|2e)/i;
const MAX_LAYERS = 4;

const dotSegments = (p: string) => p.split(/[/\\]/).filter((s) => s === '.' || s === '..').length;

/** Check a request's path (query and fragment are not part of it) and give the form to match. */
export function checkPath(raw: string): PathCheck {
  const q = raw.search(/[?#]/);
  let path = q === -1 ? raw : raw.slice(0, q);
  if (!path.startsWith('/')) path = `/${path}`;
  if (DOUBLE_ENCODED.test(path)) {
    return {
      ok: false,
      reason: 'the path hides "/", "\\" or "." under more than one layer of percent-encoding',
    };
  }
  let decoded = path;
  for (let i = 0; ; i++) {
    const next = percentDecode(decoded);
    if (next === decoded) break;
    if (i === MAX_LAYERS) return { ok: false, reason: 'the path is percent-encoded too many times over' };
    decoded = next;
  }
  // Literal dot segments are fine (they are resolved below, as the upstream would); ones that
  // only appear once decoded are where servers disagree.
  if (dotSegments(decoded) > dotSegments(path)) {
    return { ok: false, reason: 'the path has "." or ".." segments hidden by percent-encoding' };
  }
  return { ok: true, path: removeDotSegments(decoded) };
}
