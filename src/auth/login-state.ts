/**
 * What an agent's own login file says about itself — when its token expires, whether a refresh
 * token is there — for `corral auth doctor`. Read from the profile's volume on the host
 * (auth/volume.ts); only these facts leave this module, never a token.
 */
import { jwtExpiry } from './formats.js';

export interface LoginFileState {
  file: string;
  present: boolean;
  /** ms since the epoch, when the file (or a JWT in it) says. */
  expiresAt?: number;
  refreshable: boolean;
}

const EXPIRY = /^(expiresAt|expires_at|expiry_date|expiry)$/;

function walk(v: unknown, out: { exp?: number; refresh?: boolean }): void {
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (EXPIRY.test(k) && typeof x === 'number')
      out.exp = Math.min(out.exp ?? Infinity, x < 1e12 ? x * 1000 : x);
    else if (EXPIRY.test(k) && typeof x === 'string' && !Number.isNaN(Date.parse(x)))
      out.exp = Math.min(out.exp ?? Infinity, Date.parse(x));
    if (/refresh_?token/i.test(k) && typeof x === 'string' && x) out.refresh = true;
    if (/access_?token/i.test(k) && typeof x === 'string' && out.exp === undefined) {
      const e = jwtExpiry(x);
      if (e) out.exp = e;
    }
    walk(x, out);
  }
}

/** The facts of one login file, given its text (undefined: not there). */
export function loginFileState(file: string, text: string | undefined): LoginFileState {
  if (text === undefined) return { file, present: false, refreshable: false };
  const found: { exp?: number; refresh?: boolean } = {};
  try {
    walk(JSON.parse(text), found);
  } catch {
    // Not JSON (an .env file): present, nothing more to say.
  }
  return {
    file,
    present: true,
    refreshable: Boolean(found.refresh),
    ...(found.exp !== undefined && Number.isFinite(found.exp) ? { expiresAt: found.exp } : {}),
  };
}
