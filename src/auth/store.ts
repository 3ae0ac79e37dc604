/**
 * The host-side store of brokered OAuth logins: one folder per agent and profile
 * (`<data>/auth/<agent>/<profile>/`, 0700), shared with the lead's long-lived `token` file.
 *  - oauth.json: the real login (0600), written atomically, only ever under the lock;
 *  - placeholder.json: the stand-ins the sandbox's file holds (not secret, but 0600 too);
 *  - oauth.lock: a proper-lockfile lock, taken by every writer, host process or gateway alike.
 * Nothing here logs or throws a token value.
 */
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isOAuthFormat } from '../agents/oauth-formats.js';
import { writeFileAtomic } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import { makePlaceholders, type OAuthLogin, type Placeholders } from './formats.js';

export const OAUTH_FILE = 'oauth.json';
export const PLACEHOLDER_FILE = 'placeholder.json';
export const LOCK_FILE = 'oauth.lock';

export async function ensureAuthDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Atomic (temporary file, flushed, renamed over): a kill or a full disk leaves the previous login. */
async function writeSecret(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}

function asLogin(value: unknown): OAuthLogin | undefined {
  const v = value as Partial<OAuthLogin> | undefined;
  if (!v || typeof v.accessToken !== 'string' || typeof v.refreshToken !== 'string') return undefined;
  if (!isOAuthFormat(v.format)) return undefined;
  return {
    format: v.format,
    accessToken: v.accessToken,
    refreshToken: v.refreshToken,
    expiresAt: typeof v.expiresAt === 'number' ? v.expiresAt : 0,
    extra: typeof v.extra === 'object' && v.extra !== null ? v.extra : {},
  };
}

export async function readLogin(dir: string): Promise<OAuthLogin | undefined> {
  try {
    return asLogin(JSON.parse(await readFile(join(dir, OAUTH_FILE), 'utf8')));
  } catch {
    return undefined;
  }
}

export async function readPlaceholders(dir: string): Promise<Placeholders | undefined> {
  try {
    const p = JSON.parse(await readFile(join(dir, PLACEHOLDER_FILE), 'utf8')) as Partial<Placeholders>;
    return typeof p.access === 'string' && typeof p.refresh === 'string'
      ? { access: p.access, refresh: p.refresh }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Write the login (caller holds the lock). */
export async function writeLogin(dir: string, login: OAuthLogin): Promise<void> {
  await ensureAuthDir(dir);
  await writeSecret(join(dir, OAUTH_FILE), login);
}

/**
 * Run `fn` holding the profile's lock. Another holder (a gateway mid-refresh) is waited for; a lock
 * left by a crashed process goes stale after 30 s (proper-lockfile refreshes live locks' mtime).
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await ensureAuthDir(dir);
  // Loaded here, not at the top: a run that only reads the store should not pay ~25 ms for it.
  const { lock } = (await import('proper-lockfile')).default;
  let release: () => Promise<void>;
  try {
    release = await lock(dir, {
      realpath: false,
      lockfilePath: join(dir, LOCK_FILE),
      stale: 30_000,
      retries: { retries: 100, minTimeout: 20, maxTimeout: 500, factor: 1.5 },
      // The default throws from a timer, which would take the whole gateway down. A lock is only
      // lost when this process stalled past `stale`; the refresh then fails on its own.
      onCompromised: () => {},
    });
  } catch (e) {
    throw new CorralError(
      'BAD_INPUT',
      `The login store ${dir} is locked by another corral process.`,
      'Try again in a moment; a lock left by a crashed process expires after 30 seconds.',
      { cause: e },
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/**
 * Store a login (an import, or one adopted from a volume), keeping the profile's placeholders if it
 * has them: sandboxes already running hold those. Returns the placeholders.
 */
export async function saveLogin(dir: string, login: OAuthLogin): Promise<Placeholders> {
  return withLock(dir, async () => {
    let ph = await readPlaceholders(dir);
    if (!ph) {
      ph = makePlaceholders(login);
      await writeSecret(join(dir, PLACEHOLDER_FILE), ph);
    }
    await writeLogin(dir, login);
    return ph;
  });
}

/** Forget the profile's login, placeholders and long-lived token (the whole folder). */
export async function removeAuthDir(dir: string): Promise<boolean> {
  try {
    statSync(dir);
  } catch {
    return false;
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * The current access token for the gateway's injection, read on each request. A stat per request
 * (a few µs) keeps it current the moment another process's refresh lands, with no watcher to miss.
 */
export function accessTokenSource(dir: string): () => string | undefined {
  const path = join(dir, OAUTH_FILE);
  let seen = '';
  let token: string | undefined;
  return () => {
    let key: string;
    try {
      const s = statSync(path);
      key = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      seen = '';
      token = undefined;
      return undefined;
    }
    if (key !== seen) {
      try {
        token = asLogin(JSON.parse(readFileSync(path, 'utf8')))?.accessToken;
        seen = key;
      } catch {
        // Mid-rename reads cannot happen (rename is atomic); a corrupt file keeps the last token.
      }
    }
    return token;
  };
}
