/**
 * The daemon's API token: 256 random bits in a 0600 file that only the user can read. Anyone who
 * can read it can drive sandboxes, so it never goes into argv, logs or error messages.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const TOKEN = /^[0-9a-f]{64}$/;

/** The token in `file`, made (atomically, 0600) if there is none yet or it is malformed. */
export async function ensureToken(file: string): Promise<string> {
  const existing = await readToken(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${token}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return token;
}

export async function readToken(file: string): Promise<string | undefined> {
  try {
    const t = (await readFile(file, 'utf8')).trim();
    return TOKEN.test(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time: both sides are hashed first, so neither length nor content leaks through timing. */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
