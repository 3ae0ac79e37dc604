/**
 * A scripted OAuth provider for tests: a token endpoint that rotates refresh tokens and rejects any
 * reuse, and an API that accepts only the current access token. Tokens are random per run.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer as createHttp,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface OAuthProvider {
  /** The token endpoint's URL on `host` (plain HTTP). */
  tokenPort: number;
  /** The API's port (TLS when a certificate was given). */
  apiPort: number;
  current(): { access: string; refresh: string; expiresAt: number };
  refreshes: number;
  /** Refresh tokens presented a second time (must stay empty). */
  reuse: string[];
  /** API requests answered 200 / 401; `apiLate`: of the 200s, those on the token just replaced. */
  apiOk: number;
  apiLate: number;
  apiDenied: number;
  /** Every token it ever issued, access and refresh (for leak checks). */
  issued: string[];
  /** Bodies the token endpoint received (to check the request shape). */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

export const fakeToken = (kind: string) => `sk-ant-${kind}01-${randomBytes(30).toString('base64url')}`;

export async function startOAuthProvider(opts: {
  /** Lifetime of each access token, seconds. */
  lifetimeSeconds: number;
  /**
   * How long the access token just replaced keeps working (at most until it expires, which is what
   * real providers do: a token handed out stays good for its lifetime).
   */
  graceMs?: number;
  tls?: { cert: string; key: string };
  host?: string;
  /** Pass authenticated API requests on to this server (the scripted model), for real CLIs. */
  forward?: string;
}): Promise<OAuthProvider> {
  let access = fakeToken('oat');
  let refresh = fakeToken('ort');
  let expiresAt = Date.now() + opts.lifetimeSeconds * 1000;
  let previous: { token: string; until: number } | undefined;
  const spent = new Set<string>();
  const p: OAuthProvider = {
    tokenPort: 0,
    apiPort: 0,
    current: () => ({ access, refresh, expiresAt }),
    refreshes: 0,
    reuse: [],
    apiOk: 0,
    apiLate: 0,
    apiDenied: 0,
    issued: [access, refresh],
    bodies: [],
    close: async () => {},
  };
  const read = (req: IncomingMessage) =>
    new Promise<string>((r) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => r(Buffer.concat(chunks).toString()));
    });
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const token = createHttp(async (req, res) => {
    // JSON (Claude, Codex) or a form (Google, Qwen), as the request says.
    const raw = await read(req);
    const form = String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
    const body = (form ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw || '{}')) as Record<
      string,
      unknown
    >;
    p.bodies.push({
      ...body,
      refresh_token: body.refresh_token === refresh ? 'current' : 'other',
      contentType: form ? 'form' : 'json',
    });
    const presented = String(body.refresh_token ?? '');
    if (spent.has(presented)) {
      p.reuse.push(presented);
      return send(res, 400, { error: 'invalid_grant' });
    }
    if (presented !== refresh) return send(res, 400, { error: 'invalid_grant' });
    spent.add(presented);
    // Never past its own expiry: a grace, not a second life.
    previous = { token: access, until: Math.min(expiresAt, Date.now() + (opts.graceMs ?? 0)) };
    access = fakeToken('oat');
    refresh = fakeToken('ort');
    expiresAt = Date.now() + opts.lifetimeSeconds * 1000;
    p.issued.push(access, refresh);
    p.refreshes++;
    send(res, 200, {
      access_token: access,
      refresh_token: refresh,
      expires_in: opts.lifetimeSeconds,
      token_type: 'Bearer',
    });
  });
  const apiHandler = (req: IncomingMessage, res: ServerResponse) => {
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const now = Date.now();
    const ok =
      auth !== undefined &&
      ((auth === access && now < expiresAt) || (auth === previous?.token && now < previous.until));
    if (ok) p.apiOk++;
    else p.apiDenied++;
    if (ok && auth !== access) p.apiLate++;
    if (!ok || !opts.forward) {
      req.resume();
      return send(res, ok ? 200 : 401, ok ? { ok: true } : { error: 'unauthorized' });
    }
    const target = new URL(req.url ?? '/', opts.forward);
    const { authorization: _a, host: _h, ...headers } = req.headers;
    const up = httpRequest(target, { method: req.method, headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const api: Server = opts.tls ? createHttps(opts.tls, apiHandler) : createHttp(apiHandler);
  // Node closes idle keep-alive sockets after 5 s; the gateway reusing one at that instant gets a
  // reset (a 502), which is the gateway's keep-alive behaviour, not what these tests are about.
  api.keepAliveTimeout = 120_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((r) => token.listen(0, host, r));
  await new Promise<void>((r) => api.listen(0, host, r));
  p.tokenPort = (token.address() as AddressInfo).port;
  p.apiPort = (api.address() as AddressInfo).port;
  p.close = async () => {
    token.closeAllConnections();
    api.closeAllConnections();
    await Promise.all([new Promise((r) => token.close(r)), new Promise((r) => api.close(r))]);
  };
  return p;
}
