/**
 * Who may use the daemon: whoever holds the token (header or cookie). Browsers get the cookie from
 * `/login?token=…`, which then redirects so the token leaves the address bar and history; the
 * cookie is HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it).
 * WebSocket upgrades are not covered by CORS, so they must also come from the daemon's own origin.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { tokensEqual } from '../core/index.js';

export const COOKIE = 'corral_token';

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export function authorized(headers: IncomingHttpHeaders | Headers, token: string): boolean {
  const get = (n: string) =>
    headers instanceof Headers ? (headers.get(n) ?? undefined) : (headers[n] as string | undefined);
  return (
    tokensEqual(bearer(get('authorization')), token) || tokensEqual(cookieValue(get('cookie'), COOKIE), token)
  );
}

/**
 * An upgrade's Origin must be one of the daemon's own (or absent: not a browser). A page on any
 * other site could otherwise open a terminal with the user's cookie.
 */
export function originAllowed(origin: string | undefined, own: readonly string[]): boolean {
  return origin === undefined || own.includes(origin);
}

export function loginCookie(token: string): string {
  return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000`;
}
