/**
 * The OAuth credentials files corral can broker, by format: how to read a login out of the agent's
 * own file, write one back (real, or with placeholders), and ask its token endpoint for fresh
 * tokens. What differs per format lives with the agents (agents/oauth-formats.ts), keyed by
 * `oauth.format` in the agent spec, like the MCP formats (agents/mcp-formats.ts).
 */
import {
  CODEX_REFRESH_DAYS,
  FAR_FUTURE_MS,
  isObject,
  jwtExpiry,
  OAUTH_FORMATS,
  type OAuthLogin,
  type Placeholders,
  str,
} from '../agents/oauth-formats.js';
import type { OAuthSpec } from '../agents/types.js';
import { placeholderFor } from '../workspace/placeholders.js';

export type OAuthFormat = OAuthSpec['format'];
export { FAR_FUTURE_MS, jwtExpiry, type OAuthLogin, type Placeholders };

/** Read a login from the agent's own credentials file; undefined when it holds none. */
export function parseAgentFile(format: OAuthFormat, text: string): OAuthLogin | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json)) return undefined;
  const tokens = OAUTH_FORMATS[format].parse(json);
  return tokens && { format, ...tokens };
}

/** The agent's credentials file for a login, as the agent itself writes it. */
export function renderAgentFile(login: OAuthLogin): string {
  return OAUTH_FORMATS[login.format].render(login);
}

export function makePlaceholders(login: OAuthLogin): Placeholders {
  return OAUTH_FORMATS[login.format].placeholders(login, placeholderFor);
}

/**
 * The login as the sandbox sees it: placeholder tokens and an expiry so far off that the CLI never
 * refreshes (it could not: its refresh token is a placeholder too). Codex's id token carries the
 * account's claims, which it reads; its signature is dropped, so it proves nothing to anyone.
 */
export function placeholderLogin(login: OAuthLogin, ph: Placeholders): OAuthLogin {
  const extra = OAUTH_FORMATS[login.format].placeholderExtra({ ...login.extra });
  return { ...login, accessToken: ph.access, refreshToken: ph.refresh, expiresAt: FAR_FUTURE_MS, extra };
}

/** Whether an agent file is corral's placeholder file (nothing to adopt). */
export function isPlaceholder(login: OAuthLogin, ph: Placeholders | undefined): boolean {
  return ph !== undefined && (login.accessToken === ph.access || login.refreshToken === ph.refresh);
}

/** The token endpoint request each CLI sends: JSON (Claude, Codex) or a form (Google, Qwen). */
export function refreshBody(
  spec: Pick<OAuthSpec, 'clientId' | 'scopes'> & { clientSecret?: string; tokenBody?: 'json' | 'form' },
  login: OAuthLogin,
): { body: string; contentType: string } {
  const stored = login.extra.scopes;
  const scopes = Array.isArray(stored) && stored.length ? (stored as string[]) : spec.scopes;
  const fields: Record<string, string> = {
    grant_type: 'refresh_token',
    refresh_token: login.refreshToken,
    client_id: spec.clientId,
    ...(spec.clientSecret ? { client_secret: spec.clientSecret } : {}),
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
  };
  return spec.tokenBody === 'form'
    ? { body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' }
    : { body: JSON.stringify(fields), contentType: 'application/json' };
}

/** The login after a successful refresh; a response without a new refresh token keeps the old one. */
export function refreshed(login: OAuthLogin, response: unknown, now: number): OAuthLogin | undefined {
  if (!isObject(response)) return undefined;
  const accessToken = str(response.access_token);
  if (!accessToken) return undefined;
  const refreshToken = str(response.refresh_token) ?? login.refreshToken;
  const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : undefined;
  const extra = OAUTH_FORMATS[login.format].refreshedExtra({ ...login.extra }, response);
  const expiresAt =
    expiresIn !== undefined
      ? now + expiresIn * 1000
      : (jwtExpiry(accessToken) ?? now + CODEX_REFRESH_DAYS * 24 * 3600 * 1000);
  return { ...login, accessToken, refreshToken, expiresAt, extra };
}
