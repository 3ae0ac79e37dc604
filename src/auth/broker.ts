/**
 * The refresh broker: keeps a profile's brokered OAuth login fresh so no sandbox ever refreshes.
 * It runs in every gateway that serves the profile (and `corral auth refresh` on the host); the
 * lock makes exactly one of them refresh each time, and re-reading the login after taking the lock
 * means a refresh token that another process already spent is never sent again.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { type OAuthLogin, refreshBody, refreshed } from './formats.js';
import { readLogin, withLock, writeLogin } from './store.js';

export interface BrokerTarget {
  /** agent/profile, for log lines (never a token). */
  label: string;
  dir: string;
  tokenUrl: string;
  clientId: string;
  clientSecret?: string;
  /** JSON unless the endpoint takes a form (Google, Qwen). */
  tokenBody?: 'json' | 'form';
  scopes: string[];
}

export interface BrokerTiming {
  /** How often to look at each login (default 5 min). */
  checkMs: number;
  /** Refresh when the access token expires within this (default 1 h). */
  aheadMs: number;
}

export const DEFAULT_TIMING: BrokerTiming = { checkMs: 5 * 60_000, aheadMs: 60 * 60_000 };

export type RefreshOutcome = 'missing' | 'fresh' | 'refreshed' | 'failed';

export interface BrokerEnv {
  log: (line: string) => void;
  now?: () => number;
  /** Extra CAs for the token endpoint (corporate TLS interception, test endpoints). */
  ca?: readonly string[];
}

interface HttpAnswer {
  status: number;
  body: string;
}

function post(
  url: string,
  { body, contentType }: { body: string; contentType: string },
  ca: readonly string[] | undefined,
): Promise<HttpAnswer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
        },
        timeout: 30_000,
        ...(ca?.length && u.protocol === 'https:' ? { ca: [...rootCertificates, ...ca] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const due = (login: OAuthLogin, now: number, aheadMs: number) => login.expiresAt - now <= aheadMs;

/** The token endpoint's error code (`invalid_grant`), never its whole body: it may echo a token. */
function errorCode(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof e === 'string' && /^[a-z_]{1,40}$/.test(e)) return ` ${e}`;
  } catch {}
  return '';
}

/** Refresh one login if it is due; safe to call from any number of processes at once. */
export async function refreshIfDue(
  t: BrokerTarget,
  timing: Pick<BrokerTiming, 'aheadMs'>,
  env: BrokerEnv,
): Promise<RefreshOutcome> {
  const now = env.now ?? Date.now;
  const first = await readLogin(t.dir);
  if (!first) return 'missing';
  if (!due(first, now(), timing.aheadMs)) return 'fresh';
  return withLock(t.dir, async () => {
    // Someone may have refreshed while we waited: their refresh token is the one to use, if any.
    const login = await readLogin(t.dir);
    if (!login) return 'missing';
    if (!due(login, now(), timing.aheadMs)) return 'fresh';
    let answer: HttpAnswer;
    try {
      answer = await post(t.tokenUrl, refreshBody(t, login), env.ca);
    } catch (e) {
      env.log(
        `auth ${t.label}: refresh failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
      return 'failed';
    }
    if (answer.status !== 200) {
      env.log(
        `auth ${t.label}: the token endpoint refused the refresh (${answer.status}${errorCode(answer.body)})`,
      );
      return 'failed';
    }
    let next: OAuthLogin | undefined;
    try {
      next = refreshed(login, JSON.parse(answer.body), now());
    } catch {
      next = undefined;
    }
    if (!next) {
      env.log(`auth ${t.label}: the token endpoint's answer had no access token`);
      return 'failed';
    }
    await writeLogin(t.dir, next);
    env.log(`auth ${t.label}: refreshed, valid until ${new Date(next.expiresAt).toISOString()}`);
    return 'refreshed';
  });
}

/**
 * Check every target now and then every `checkMs`; one check per target at a time. `targets` is
 * read at each round, so logins added by a settings reload are picked up.
 */
export function startBroker(
  targets: () => readonly BrokerTarget[],
  timing: BrokerTiming,
  env: BrokerEnv,
): { stop: () => void; round: () => Promise<void> } {
  const busy = new Set<string>();
  const round = async () => {
    await Promise.all(
      targets().map(async (t) => {
        if (busy.has(t.dir)) return;
        busy.add(t.dir);
        try {
          await refreshIfDue(t, timing, env);
        } catch (e) {
          env.log(`auth ${t.label}: ${(e as Error).message}`);
        } finally {
          busy.delete(t.dir);
        }
      }),
    );
  };
  void round();
  const timer = setInterval(() => void round(), timing.checkMs);
  timer.unref();
  return { stop: () => clearInterval(timer), round };
}
