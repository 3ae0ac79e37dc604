/**
 * Credential injection. The sandbox holds a placeholder; on an intercepted request to the
 * credential's own host the gateway swaps in the real value. The real value must reach that host
 * and no other, so requests to every other host are scrubbed of it too (defence in depth: the
 * sandbox should never have it, but if it leaked in somehow it still does not leave).
 */
import { z } from 'zod';
import { CorralError } from '../errors.js';
import { normalizeHost } from './addresses.js';
import { checkHost, hostMatches } from './policy.js';
import { scopeRefusal, TokenScopeSchema } from './token-scope.js';

export const CredentialSchema = z
  .object({
    /** Exact host or `*.suffix`; `*` alone is refused (a key for every host is a key for attackers). */
    host: z
      .string()
      .transform((h, ctx) => {
        const r = checkHost(h);
        if (r.ok) return r.value;
        for (const issue of r.issues) ctx.addIssue({ code: 'custom', message: issue.message });
        return z.NEVER;
      })
      .refine((h) => h !== '*', 'a credential needs a specific host'),
    header: z
      .string()
      .transform((h) => h.toLowerCase())
      .pipe(z.string().regex(/^[a-z0-9-]+$/)),
    /** The real secret. For `authorization` this is the token; the gateway adds `Bearer `. */
    value: z.string().min(1),
    placeholder: z.string().min(8),
    /**
     * The placeholder may follow any auth scheme (`Bearer`, `token`, none) or be Basic auth's user
     * or password (git over HTTPS), and is swapped in place, the scheme kept (GitHub tokens and
     * `--secret-env` keys, which many tools send in many ways). Otherwise `authorization` is Bearer.
     */
    anyScheme: z.boolean().optional(),
    /** Requests the real value may go on; one carrying the placeholder outside it gets 403. */
    scope: TokenScopeSchema.optional(),
    /**
     * May go over plain HTTP: a provider the user configured as http:// (a model server on this
     * machine, reached through the host alias). Every other credential needs TLS upstream.
     */
    plain: z.boolean().optional(),
  })
  .strict();
export type Credential = z.output<typeof CredentialSchema>;
export type CredentialInput = z.input<typeof CredentialSchema>;

export function parseCredentials(input: readonly CredentialInput[]): Credential[] {
  return input.map((c, i) => {
    const r = CredentialSchema.safeParse(c);
    if (!r.success) {
      // Never echo the input: it carries the secret.
      const where = r.error.issues.map((x) => x.path.join('.') || '(top level)').join(', ');
      throw new CorralError(
        'CONFIG_INVALID',
        `Invalid gateway credential #${i + 1} (${where})`,
        'Each credential needs host, header, value and a placeholder of at least 8 characters.',
      );
    }
    if (r.data.value === r.data.placeholder || r.data.value.includes(r.data.placeholder)) {
      throw new CorralError('CONFIG_INVALID', `Gateway credential #${i + 1}: placeholder and value overlap`);
    }
    return r.data;
  });
}

type Headers = Record<string, string | string[] | undefined>;

function expected(c: Credential, token: string): string {
  return c.header === 'authorization' ? `Bearer ${token}` : token;
}

/** `Basic base64(user:password)` with the placeholder as user or password, re-encoded with `token`. */
function basicSwap(c: Credential, v: string, token: string): string | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(v);
  if (!m) return undefined;
  const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  if (colon === -1) return undefined;
  const user = plain.slice(0, colon);
  const pass = plain.slice(colon + 1);
  if (user !== c.placeholder && pass !== c.placeholder) return undefined;
  const swap = (x: string) => (x === c.placeholder ? token : x);
  return `Basic ${Buffer.from(`${swap(user)}:${swap(pass)}`).toString('base64')}`;
}

/** The header value with the real token in place of the placeholder, or undefined if it carries none. */
function swapped(c: Credential, v: string, token: string): string | undefined {
  if (c.anyScheme) {
    const m = /^(?:([A-Za-z]+)\s+)?(\S+)\s*$/.exec(v);
    if (m?.[2] === c.placeholder) return m[1] ? `${m[1]} ${token}` : token;
    return c.header === 'authorization' ? basicSwap(c, v, token) : undefined;
  }
  if (c.header !== 'authorization') return v === c.placeholder ? token : undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(v);
  return m?.[1] === c.placeholder ? expected(c, token) : undefined;
}

/**
 * The credentials whose placeholder this request carries to one of their hosts over TLS: the ones
 * the gateway would inject.
 */
export function carried(
  credentials: readonly Credential[],
  rawHost: string,
  headers: Headers,
  secure: boolean,
): Credential[] {
  if (!secure) return [];
  const host = normalizeHost(rawHost);
  return credentials.filter((c) => {
    const v = headers[c.header];
    return hostMatches(c.host, host) && typeof v === 'string' && swapped(c, v, c.value) !== undefined;
  });
}

/**
 * Why the request may not carry a scoped token (a 403 for the sandbox, a denial in the audit log),
 * or undefined. Checked before any credential is applied.
 */
export function credentialRefusal(
  credentials: readonly Credential[],
  rawHost: string,
  method: string,
  path: string,
  headers: Headers,
  secure: boolean,
): string | undefined {
  const host = normalizeHost(rawHost);
  for (const c of carried(credentials, host, headers, secure)) {
    const why = c.scope && scopeRefusal(c.scope, host, method, path);
    if (why) return why;
  }
  return undefined;
}

/**
 * Rewrite outgoing headers in place for a request to `host`. `secure` is whether the upstream leg
 * is TLS: a real key is never sent over plain HTTP, even to its own host.
 * Returns how many headers were injected, for the audit log.
 */
export function applyCredentials(
  credentials: readonly Credential[],
  rawHost: string,
  headers: Headers,
  secure: boolean,
): number {
  if (credentials.length === 0) return 0;
  const host = normalizeHost(rawHost);
  let injected = 0;
  for (const c of credentials) {
    if (!(secure || c.plain) || !hostMatches(c.host, host)) continue;
    const v = headers[c.header];
    const next = typeof v === 'string' ? swapped(c, v, c.value) : undefined;
    if (next !== undefined) {
      headers[c.header] = next;
      injected++;
    }
  }
  // Any real value outside its own header on its own (secure) host is dropped, wherever it hides.
  // A value may belong to several hosts (a login used by two APIs): any one of them owns it.
  const owns = (c: Credential, name: string) =>
    credentials.some(
      (o) => o.value === c.value && (secure || o.plain) && hostMatches(o.host, host) && name === o.header,
    );
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const text = Array.isArray(v) ? v.join('\n') : v;
    for (const c of credentials) {
      if (text.includes(c.value) && !owns(c, name)) delete headers[name];
    }
  }
  return injected;
}

/** Hosts credentials are injected for: the gateway must intercept these. */
export function credentialHosts(credentials: readonly Credential[]): string[] {
  return credentials.map((c) => c.host);
}
