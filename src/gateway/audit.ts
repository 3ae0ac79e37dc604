/**
 * The egress audit log: one JSON object per line, one line per request (plain or intercepted) or
 * per tunnel (CONNECT without interception, where requests are invisible). Bodies are written
 * only when the user opts in (egress.log_bodies); every string, bodies included, goes through the
 * redactor on its way out, so a caller cannot forget to.
 */
import type { Writable } from 'node:stream';
import type { LoggedBody } from './bodies.js';
import { createRedactor, type Redactor } from './redact.js';

export type AuditDecision = 'allow' | 'deny' | 'error';

export interface AuditEntry {
  time: string;
  sandbox?: string;
  /** HTTP method, or CONNECT for an opaque tunnel. */
  method: string;
  host: string;
  port: number;
  path?: string;
  /** HTTP status sent to the client (200 for an opened tunnel). */
  status: number;
  /** Bytes received from upstream (response body, or tunnel bytes towards the sandbox). */
  bytesIn: number;
  /** Bytes sent upstream (request body, or tunnel bytes from the sandbox). */
  bytesOut: number;
  /** The rule that decided, in the textual rule form. */
  rule?: string;
  decision: AuditDecision;
  /** Why, for denials and errors. */
  reason?: string;
  /** TLS was terminated at the gateway for this request. */
  intercepted?: boolean;
  durationMs: number;
  /** With body logging on: the head of the request and response bodies, redacted. */
  requestBody?: LoggedBody;
  responseBody?: LoggedBody;
}

export interface AuditLog {
  write(entry: Omit<AuditEntry, 'time' | 'sandbox'>): void;
}

export interface AuditLogOptions {
  sandbox?: string;
  /** Exact values to hide wherever they appear (the real credentials); a function is asked anew each time. */
  secrets?: readonly string[] | (() => readonly string[]);
  redactor?: Redactor;
  /** Told of each refusal (redacted, like the log line): the sandbox-visible denial file. */
  onDeny?: (entry: AuditEntry) => void;
}

/** An audit log writing to `stream`; a broken stream never breaks proxying. */
export function createAuditLog(stream: Writable | undefined, opts: AuditLogOptions = {}): AuditLog {
  if (!stream) return { write() {} };
  let cached: { key: string; redactor: Redactor } | undefined;
  const redactor = (): Redactor => {
    if (opts.redactor) return opts.redactor;
    const list = typeof opts.secrets === 'function' ? opts.secrets() : (opts.secrets ?? []);
    const key = list.join('\0');
    if (cached?.key !== key) cached = { key, redactor: createRedactor(list) };
    return cached.redactor;
  };
  let broken = false;
  stream.on('error', () => {
    broken = true;
  });
  return {
    write(entry) {
      if (broken || stream.destroyed || stream.writableEnded) return;
      const line: AuditEntry = {
        time: new Date().toISOString(),
        ...(opts.sandbox === undefined ? {} : { sandbox: opts.sandbox }),
        ...entry,
        durationMs: Math.round(entry.durationMs * 10) / 10,
      };
      const redact = redactor();
      line.host = redact.text(line.host);
      if (line.path !== undefined) line.path = redact.path(line.path);
      if (line.reason !== undefined) line.reason = redact.text(line.reason);
      if (line.rule !== undefined) line.rule = redact.text(line.rule);
      for (const k of ['requestBody', 'responseBody'] as const) {
        const b = line[k];
        if (b && 'text' in b) line[k] = { ...b, text: redact.body(b.text) };
      }
      stream.write(`${JSON.stringify(line)}\n`);
      if (line.decision === 'deny') opts.onDeny?.(line);
    },
  };
}
