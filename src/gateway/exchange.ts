/**
 * Token exchanges the gateway keeps to itself. Copilot trades the GitHub token (which the sandbox
 * holds only as a placeholder) for a short-lived Copilot token at
 * `api.github.com/copilot_internal/v2/token`; handed through as it is, that token would be a live
 * credential inside the sandbox. So when a request that the gateway injected a token into gets such
 * an answer, the gateway keeps the new token, answers with a placeholder in its place, and injects
 * the real one on the hosts it is for, until it expires.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { normalizeHost } from './addresses.js';
import type { Credential } from './credentials.js';
import { canonicalPath } from './decide.js';
import { responseHeaders } from './headers.js';

export interface Exchange {
  host: string;
  path: string;
  /** The JSON field holding the new token. */
  field: string;
  /** Where the new token is injected (as the sandbox's placeholder in `authorization`). */
  injectHosts: string[];
}

export const EXCHANGES: readonly Exchange[] = [
  {
    host: 'api.github.com',
    path: '/copilot_internal/v2/token',
    field: 'token',
    injectHosts: ['*.githubcopilot.com', 'copilot-proxy.githubusercontent.com'],
  },
];

/** The exchange a request is, if the gateway injected a credential into it over TLS. */
export function exchangeFor(
  host: string,
  path: string,
  injected: number,
  secure: boolean,
): Exchange | undefined {
  if (!injected || !secure) return undefined;
  const h = normalizeHost(host);
  // As forwarded (dot segments, doubled slashes resolved), and whatever the case or a trailing
  // slash: a variant the upstream answers alike must not slip the token past.
  let p = canonicalPath(path.replace(/[?#].*$/, ''));
  try {
    p = decodeURIComponent(p);
  } catch {
    // Malformed escapes: matched as sent.
  }
  p = p
    .toLowerCase()
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '');
  return EXCHANGES.find((e) => e.host === h && e.path === p);
}

/**
 * A Copilot token is `field=value;…;exp=…;proxy-ep=…:signature`: its fields tell the CLI when it
 * expires and which endpoint to use, and the signature is what makes it a credential. The
 * placeholder keeps the fields and replaces the signature (any other shape is replaced whole).
 */
export function exchangedPlaceholder(real: string): string {
  const tag = `corral${randomBytes(16).toString('hex')}`;
  const colon = real.lastIndexOf(':');
  return colon > 0 && real.slice(0, colon).includes('=') ? `${real.slice(0, colon)}:${tag}` : tag;
}

/** The real tokens the gateway got from exchanges, with their placeholders, until they expire. */
export class ExchangedTokens {
  private entries: { credentials: Credential[]; expires: number }[] = [];

  add(e: Exchange, value: string, placeholder: string, expiresAtSeconds: number | undefined): void {
    // Without an expiry in the answer: half an hour, the Copilot token's usual life.
    const expires = expiresAtSeconds ? expiresAtSeconds * 1000 : Date.now() + 30 * 60_000;
    this.entries.push({
      credentials: e.injectHosts.map((host) => ({ host, header: 'authorization', value, placeholder })),
      expires,
    });
  }

  credentials(): Credential[] {
    const now = Date.now();
    this.entries = this.entries.filter((x) => x.expires > now);
    return this.entries.flatMap((x) => x.credentials);
  }
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/**
 * Relay the exchange's answer with the new token swapped for a placeholder. Anything that is not a
 * JSON answer with that field is passed on as it came (an error, a refusal).
 */
export async function relayExchange(
  e: Exchange,
  ures: IncomingMessage,
  res: ServerResponse,
  tokens: ExchangedTokens,
): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of ures) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = String(ures.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decode = encoding === 'identity' ? async (b: Buffer) => b : decoders[encoding];
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = decode ? JSON.parse((await decode(raw)).toString('utf8')) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const token = body?.[e.field];
  const headers = responseHeaders(ures);
  const status = ures.statusCode ?? 502;
  if (!body || typeof token !== 'string' || !token) {
    // A success the gateway cannot read may hold the token: it does not go through.
    if (status >= 200 && status < 300) {
      const why = "corral egress gateway: could not read the token exchange's answer, so it is withheld\n";
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'x-corral-egress': 'error' });
      res.end(why);
      return raw.length;
    }
    res.writeHead(status, ures.statusMessage, headers);
    res.end(raw);
    return raw.length;
  }
  const placeholder = exchangedPlaceholder(token);
  const expires = typeof body.expires_at === 'number' ? body.expires_at : undefined;
  tokens.add(e, token, placeholder, expires);
  const out = Buffer.from(JSON.stringify({ ...body, [e.field]: placeholder }));
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const k = headers[i]!.toLowerCase();
    if (k !== 'content-length' && k !== 'content-encoding') kept.push(headers[i]!, headers[i + 1]!);
  }
  res.writeHead(status, ures.statusMessage, [...kept, 'Content-Length', String(out.length)]);
  res.end(out);
  return raw.length;
}
