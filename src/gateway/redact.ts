/**
 * Secret redaction for anything the gateway writes down. The audit log is read by people and tools
 * that should never see a credential, so redaction errs on the side of hiding: by header name, by
 * query parameter name, by the shapes of well-known tokens, and by exact value for secrets the
 * gateway itself holds (which may have no recognisable shape).
 */

export const REDACTED = '[redacted]';

const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-amz-security-token',
]);

const SENSITIVE_PARAM = /key|token|secret|passw|pwd|signature|^sig$|auth|credential|session/i;

// Known token shapes. Each is specific enough not to eat ordinary path segments.
const TOKEN_SHAPES: RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{8,}/g, // Anthropic
  /sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/g, // OpenAI and lookalikes
  /gh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub classic tokens
  /github_pat_[A-Za-z0-9_]{20,}/g, // GitHub fine-grained tokens
  /AIza[0-9A-Za-z_-]{30,}/g, // Google API keys
  /xox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack
  /glpat-[A-Za-z0-9_-]{16,}/g, // GitLab
  /AKIA[0-9A-Z]{16}/g, // AWS access key id
  /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWT (header.payload.signature)
];

export interface Redactor {
  /** Any text: exact secrets and known token shapes become [redacted]. */
  text(s: string): string;
  /** A request path with query: sensitive query values and token shapes redacted. */
  path(p: string): string;
  /** Headers: sensitive names hidden entirely, other values passed through text(). */
  headers(h: Record<string, string | string[] | undefined>): Record<string, string>;
  /**
   * A logged body: JSON fields and form fields named like secrets hidden (as query params are),
   * then text() over all of it. Works on a truncated body or an event stream too.
   */
  body(b: string): string;
}

// A JSON string member, `"name": "value"`, for bodies that do not parse whole (cut at the log
// limit, event streams, JSON lines).
const JSON_STRING_MEMBER = /"((?:[^"\\]|\\.)*)"(\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/**
 * Strings under a field named like a secret are hidden, however deep. Numbers and booleans are
 * kept: they are counts and flags (`max_tokens`, `input_tokens`), not credentials.
 */
function redactJson(v: unknown, hidden: boolean, text: (s: string) => string): unknown {
  if (typeof v === 'string') return hidden ? REDACTED : text(v);
  if (Array.isArray(v)) return v.map((x) => redactJson(x, hidden, text));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, redactJson(x, hidden || SENSITIVE_PARAM.test(k), text)]),
    );
  }
  return v;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A redactor that also hides these exact values (the gateway's real credentials). */
export function createRedactor(secrets: readonly string[] = []): Redactor {
  // Longest first so a secret containing another is hidden whole. Very short values are skipped:
  // hiding every "a" would make the log unreadable and protects nothing.
  const exact = [...new Set(secrets)].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
  const exactRe = exact.length ? new RegExp(exact.map(escapeRegExp).join('|'), 'g') : undefined;

  const text = (s: string): string => {
    let out = exactRe ? s.replace(exactRe, REDACTED) : s;
    for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
    return out;
  };

  const path = (p: string): string => {
    const q = p.indexOf('?');
    if (q === -1) return text(p);
    const params = p
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        let name = pair.slice(0, eq);
        try {
          name = decodeURIComponent(name);
        } catch {
          // A malformed escape: judge the raw name.
        }
        return SENSITIVE_PARAM.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
      });
    return text(`${p.slice(0, q)}?${params.join('&')}`);
  };

  const headers = (h: Record<string, string | string[] | undefined>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) {
      if (v === undefined) continue;
      const value = Array.isArray(v) ? v.join(', ') : v;
      out[k] = SENSITIVE_HEADERS.has(k.toLowerCase()) ? REDACTED : text(value);
    }
    return out;
  };

  const body = (b: string): string => {
    const trimmed = b.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return text(JSON.stringify(redactJson(JSON.parse(b), false, text)));
      } catch {
        // Not whole JSON: the member-by-member pass below.
      }
    } else if (/^[^\s=&{[]+=[^\s]*$/.test(trimmed)) {
      // A form body (a=1&b=2) is a query string.
      return path(`?${b}`).slice(1);
    }
    return text(
      b.replace(JSON_STRING_MEMBER, (m, name: string, colon: string) =>
        SENSITIVE_PARAM.test(name) ? `"${name}"${colon}"${REDACTED}"` : m,
      ),
    );
  };

  return { text, path, headers, body };
}
