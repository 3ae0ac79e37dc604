/**
 * The OAuth credentials files corral can broker, by format: how to read a login out of the agent's
 * own file, write one back (real, or with placeholders), and ask its token endpoint for fresh
 * tokens. Keyed by `oauth.format` in the agent spec, like the MCP formats in bridge/agent-config.ts.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthSpec } from '../agents/types.js';
import { placeholderFor } from '../workspace/placeholders.js';

export type OAuthFormat = OAuthSpec['format'];

export interface OAuthLogin {
  format: OAuthFormat;
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, ms since the epoch. */
  expiresAt: number;
  /** The file's other fields (scopes, subscription, id token, account), kept to write it back. */
  extra: Record<string, unknown>;
}

/** What the sandbox's file holds instead of the tokens: stable per profile, so every gateway knows it. */
export interface Placeholders {
  access: string;
  refresh: string;
}

/** 2100-01-01: far enough that the CLI in the sandbox never decides to refresh by itself. */
export const FAR_FUTURE_MS = 4_102_444_800_000;
const CODEX_REFRESH_DAYS = 8;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** The `exp` claim of a JWT, in ms; undefined when the token is not a readable JWT. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as Json).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Read a login from the agent's own credentials file; undefined when it holds none. */
export function parseAgentFile(format: OAuthFormat, text: string): OAuthLogin | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json)) return undefined;
  if (format === 'claude') {
    const o = json.claudeAiOauth;
    if (!isObject(o)) return undefined;
    const accessToken = str(o.accessToken);
    const refreshToken = str(o.refreshToken);
    if (!accessToken || !refreshToken) return undefined;
    const { accessToken: _a, refreshToken: _r, expiresAt, ...extra } = o;
    return {
      format,
      accessToken,
      refreshToken,
      expiresAt: typeof expiresAt === 'number' ? expiresAt : 0,
      extra,
    };
  }
  const t = json.tokens;
  if (!isObject(t)) return undefined;
  const accessToken = str(t.access_token);
  const refreshToken = str(t.refresh_token);
  if (!accessToken || !refreshToken) return undefined;
  const { tokens: _t, last_refresh, ...top } = json;
  const { access_token: _a, refresh_token: _r, ...tokenExtra } = t;
  const refreshed = Date.parse(String(last_refresh ?? ''));
  const expiresAt =
    jwtExpiry(accessToken) ??
    (Number.isNaN(refreshed) ? 0 : refreshed + CODEX_REFRESH_DAYS * 24 * 3600 * 1000);
  return { format, accessToken, refreshToken, expiresAt, extra: { ...top, tokens: tokenExtra } };
}

/** The agent's credentials file for a login, as the agent itself writes it. */
export function renderAgentFile(login: OAuthLogin): string {
  if (login.format === 'claude') {
    return `${JSON.stringify({
      claudeAiOauth: {
        accessToken: login.accessToken,
        refreshToken: login.refreshToken,
        expiresAt: login.expiresAt,
        ...login.extra,
      },
    })}\n`;
  }
  const { tokens, ...top } = login.extra;
  const lastRefresh =
    login.expiresAt >= FAR_FUTURE_MS
      ? new Date(FAR_FUTURE_MS).toISOString()
      : new Date(Math.max(0, login.expiresAt - CODEX_REFRESH_DAYS * 24 * 3600 * 1000)).toISOString();
  return `${JSON.stringify(
    {
      ...top,
      tokens: {
        ...(isObject(tokens) ? tokens : {}),
        access_token: login.accessToken,
        refresh_token: login.refreshToken,
      },
      last_refresh: lastRefresh,
    },
    null,
    2,
  )}\n`;
}

/** A JWT-shaped stand-in (Codex reads claims from its tokens); the signature part marks it as ours. */
function fakeJwt(claims: Json): string {
  const part = (o: Json) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.corral${randomBytes(16).toString('hex')}`;
}

export function makePlaceholders(login: OAuthLogin): Placeholders {
  if (login.format === 'codex') {
    return {
      access: fakeJwt({ exp: FAR_FUTURE_MS / 1000, corral: 'placeholder' }),
      refresh: `corral-refresh-${randomBytes(16).toString('hex')}`,
    };
  }
  return { access: placeholderFor(login.accessToken), refresh: placeholderFor(login.refreshToken) };
}

/** Codex's id token with its claims (account, plan), an expiry in 2100, and no signature. */
function placeholderIdToken(id: string | undefined): string {
  let claims: Json = {};
  try {
    const parsed = JSON.parse(Buffer.from(id?.split('.')[1] ?? '', 'base64url').toString()) as unknown;
    if (isObject(parsed)) claims = parsed;
  } catch {}
  const part = (o: Json) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp: FAR_FUTURE_MS / 1000 })}.corral`;
}

/**
 * The login as the sandbox sees it: placeholder tokens and an expiry so far off that the CLI never
 * refreshes (it could not: its refresh token is a placeholder too). Codex's id token carries the
 * account's claims, which it reads; its signature is dropped, so it proves nothing to anyone.
 */
export function placeholderLogin(login: OAuthLogin, ph: Placeholders): OAuthLogin {
  const extra = { ...login.extra };
  if (login.format === 'codex' && isObject(extra.tokens)) {
    extra.tokens = { ...extra.tokens, id_token: placeholderIdToken(str(extra.tokens.id_token)) };
  }
  return { ...login, accessToken: ph.access, refreshToken: ph.refresh, expiresAt: FAR_FUTURE_MS, extra };
}

/** Whether an agent file is corral's placeholder file (nothing to adopt). */
export function isPlaceholder(login: OAuthLogin, ph: Placeholders | undefined): boolean {
  return ph !== undefined && (login.accessToken === ph.access || login.refreshToken === ph.refresh);
}

/** The token endpoint request each CLI sends (both take JSON). */
export function refreshBody(spec: Pick<OAuthSpec, 'clientId' | 'scopes'>, login: OAuthLogin): string {
  const stored = login.extra.scopes;
  const scopes = Array.isArray(stored) && stored.length ? (stored as string[]) : spec.scopes;
  return JSON.stringify({
    grant_type: 'refresh_token',
    refresh_token: login.refreshToken,
    client_id: spec.clientId,
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
  });
}

/** The login after a successful refresh; a response without a new refresh token keeps the old one. */
export function refreshed(login: OAuthLogin, response: unknown, now: number): OAuthLogin | undefined {
  if (!isObject(response)) return undefined;
  const accessToken = str(response.access_token);
  if (!accessToken) return undefined;
  const refreshToken = str(response.refresh_token) ?? login.refreshToken;
  const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : undefined;
  const extra = { ...login.extra };
  if (login.format === 'codex' && isObject(extra.tokens) && str(response.id_token)) {
    extra.tokens = { ...extra.tokens, id_token: response.id_token };
  }
  if (login.format === 'claude' && typeof response.scope === 'string' && response.scope) {
    extra.scopes = response.scope.split(' ');
  }
  const expiresAt =
    expiresIn !== undefined
      ? now + expiresIn * 1000
      : (jwtExpiry(accessToken) ?? now + CODEX_REFRESH_DAYS * 24 * 3600 * 1000);
  return { ...login, accessToken, refreshToken, expiresAt, extra };
}
