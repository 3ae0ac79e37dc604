/**
 * The OAuth credentials files corral can broker, as data beside the agent specs: how to read a
 * login out of the agent's own file, write one back (real, or with placeholders), and what a token
 * refresh changes in it. Keyed by an agent spec's `oauth.format`; src/auth/ brokers any of them
 * without naming one. A new agent with a new file format adds its entry here.
 */
import { randomBytes } from 'node:crypto';

export interface OAuthLogin {
  format: OAuthFormatName;
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

type Json = Record<string, unknown>;
type Tokens = Omit<OAuthLogin, 'format'>;

export interface OAuthFileFormat {
  /** The login in the agent's file (parsed JSON); undefined when it holds none. */
  parse(json: Json): Tokens | undefined;
  /** The agent's file for a login, as the agent itself writes it. */
  render(login: OAuthLogin): string;
  /** Stand-ins for the tokens; `placeholderFor` makes a same-shaped random one (workspace/placeholders). */
  placeholders(login: OAuthLogin, placeholderFor: (secret: string) => string): Placeholders;
  /** The file's other fields as the sandbox sees them (claims it reads, no signature). */
  placeholderExtra(extra: Json): Json;
  /** The other fields after a refresh answered with `response`. */
  refreshedExtra(extra: Json, response: Json): Json;
}

/** 2100-01-01: far enough that the CLI in the sandbox never decides to refresh by itself. */
export const FAR_FUTURE_MS = 4_102_444_800_000;
/** Codex refreshes a login this old; also the lifetime assumed when a refresh does not say. */
export const CODEX_REFRESH_DAYS = 8;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

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

const part = (o: Json) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A JWT-shaped stand-in (Codex reads claims from its tokens); the signature part marks it as ours. */
function fakeJwt(claims: Json): string {
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.corral${randomBytes(16).toString('hex')}`;
}

/** Codex's id token with its claims (account, plan), an expiry in 2100, and no signature. */
function placeholderIdToken(id: string | undefined): string {
  let claims: Json = {};
  try {
    const parsed = JSON.parse(Buffer.from(id?.split('.')[1] ?? '', 'base64url').toString()) as unknown;
    if (isObject(parsed)) claims = parsed;
  } catch {}
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp: FAR_FUTURE_MS / 1000 })}.corral`;
}

/** Claude Code's ~/.claude/.credentials.json: `claudeAiOauth` with camelCase tokens and expiry. */
const claude: OAuthFileFormat = {
  parse(json) {
    const o = json.claudeAiOauth;
    if (!isObject(o)) return undefined;
    const accessToken = str(o.accessToken);
    const refreshToken = str(o.refreshToken);
    if (!accessToken || !refreshToken) return undefined;
    const { accessToken: _a, refreshToken: _r, expiresAt, ...extra } = o;
    return { accessToken, refreshToken, expiresAt: typeof expiresAt === 'number' ? expiresAt : 0, extra };
  },
  render: (login) =>
    `${JSON.stringify({
      claudeAiOauth: {
        accessToken: login.accessToken,
        refreshToken: login.refreshToken,
        expiresAt: login.expiresAt,
        ...login.extra,
      },
    })}\n`,
  placeholders: (login, placeholderFor) => ({
    access: placeholderFor(login.accessToken),
    refresh: placeholderFor(login.refreshToken),
  }),
  placeholderExtra: (extra) => extra,
  refreshedExtra: (extra, response) =>
    typeof response.scope === 'string' && response.scope
      ? { ...extra, scopes: response.scope.split(' ') }
      : extra,
};

/** Codex's ~/.codex/auth.json: `tokens` (JWTs; expiry from the claims) and `last_refresh`. */
const codex: OAuthFileFormat = {
  parse(json) {
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
    return { accessToken, refreshToken, expiresAt, extra: { ...top, tokens: tokenExtra } };
  },
  render(login) {
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
  },
  placeholders: () => ({
    access: fakeJwt({ exp: FAR_FUTURE_MS / 1000, corral: 'placeholder' }),
    refresh: `corral-refresh-${randomBytes(16).toString('hex')}`,
  }),
  placeholderExtra: (extra) =>
    isObject(extra.tokens)
      ? { ...extra, tokens: { ...extra.tokens, id_token: placeholderIdToken(str(extra.tokens.id_token)) } }
      : extra,
  refreshedExtra: (extra, response) =>
    isObject(extra.tokens) && str(response.id_token)
      ? { ...extra, tokens: { ...extra.tokens, id_token: response.id_token } }
      : extra,
};

/**
 * Gemini CLI's and Qwen Code's `oauth_creds.json` (google-auth-library's shape): snake_case tokens,
 * `expiry_date` in ms, and the rest (`token_type`, `scope`, Gemini's `id_token`, Qwen's
 * `resource_url`, the API host it was given) kept as they are. An id token goes in with its claims
 * (the account's email) and no signature, as Codex's does.
 */
function expiryDateFile(): OAuthFileFormat {
  return {
    parse(json) {
      const accessToken = str(json.access_token);
      const refreshToken = str(json.refresh_token);
      if (!accessToken || !refreshToken) return undefined;
      const { access_token: _a, refresh_token: _r, expiry_date, ...extra } = json;
      return {
        accessToken,
        refreshToken,
        expiresAt: typeof expiry_date === 'number' ? expiry_date : 0,
        extra,
      };
    },
    render: (login) =>
      `${JSON.stringify(
        {
          ...login.extra,
          access_token: login.accessToken,
          refresh_token: login.refreshToken,
          expiry_date: login.expiresAt,
        },
        null,
        2,
      )}\n`,
    placeholders: (login, placeholderFor) => ({
      access: placeholderFor(login.accessToken),
      refresh: placeholderFor(login.refreshToken),
    }),
    placeholderExtra: (extra) =>
      str(extra.id_token) ? { ...extra, id_token: placeholderIdToken(str(extra.id_token)) } : extra,
    refreshedExtra: (extra, response) => {
      const out = { ...extra };
      for (const k of ['id_token', 'scope', 'token_type', 'resource_url'])
        if (str(response[k])) out[k] = response[k];
      return out;
    },
  };
}

export const OAUTH_FORMATS = {
  claude,
  codex,
  gemini: expiryDateFile(),
  qwen: expiryDateFile(),
} satisfies Record<string, OAuthFileFormat>;

export type OAuthFormatName = keyof typeof OAUTH_FORMATS;

export const isOAuthFormat = (v: unknown): v is OAuthFormatName =>
  typeof v === 'string' && Object.hasOwn(OAUTH_FORMATS, v);
