/**
 * What an agent's own login files in the profile's state say about themselves — present, when the
 * token expires, whether a refresh token is there — read inside a throwaway sandbox on that
 * profile, so no token leaves it: the script prints only these facts.
 */
export interface LoginFileState {
  file: string;
  present: boolean;
  /** ms since the epoch, when the file (or a JWT in it) says. */
  expiresAt?: number;
  refreshable: boolean;
}

/** Runs in the sandbox as `node -e SCRIPT file…`; one JSON line per file on stdout. */
export const LOGIN_STATE_SCRIPT = `
const fs = require('fs'), path = require('path'), os = require('os');
const EXP = /^(expiresAt|expires_at|expiry_date|expiry)$/;
function jwtExp(s) {
  const p = s.split('.');
  if (p.length !== 3) return undefined;
  try { const c = JSON.parse(Buffer.from(p[1], 'base64url').toString()); return typeof c.exp === 'number' ? c.exp * 1000 : undefined; } catch { return undefined; }
}
function walk(v, out) {
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (EXP.test(k) && typeof x === 'number') out.exp = Math.min(out.exp ?? Infinity, x < 1e12 ? x * 1000 : x);
    else if (EXP.test(k) && typeof x === 'string' && !isNaN(Date.parse(x))) out.exp = Math.min(out.exp ?? Infinity, Date.parse(x));
    if (/refresh_?token/i.test(k) && typeof x === 'string' && x) out.refresh = true;
    if (/access_?token/i.test(k) && typeof x === 'string' && out.exp === undefined) { const e = jwtExp(x); if (e) out.exp = e; }
    walk(x, out);
  }
}
for (const f of process.argv.slice(1)) {
  const out = { file: f, present: false, refreshable: false };
  try {
    const text = fs.readFileSync(path.join(os.homedir(), f), 'utf8');
    out.present = true;
    const found = {};
    try { walk(JSON.parse(text), found); } catch {}
    if (found.exp !== undefined && isFinite(found.exp)) out.expiresAt = found.exp;
    out.refreshable = Boolean(found.refresh);
  } catch {}
  console.log(JSON.stringify(out));
}
`;

export function parseLoginState(stdout: string): LoginFileState[] {
  const out: LoginFileState[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as LoginFileState;
      if (typeof v.file === 'string' && typeof v.present === 'boolean') out.push(v);
    } catch {
      // Not ours (the agent image's banner, a warning): skip.
    }
  }
  return out;
}
