/**
 * The SSH server's keys: a per-user host key and a corral client key (both ed25519, 0600, in
 * corral's data folder), and the public keys allowed to log in: the user's own (~/.ssh/*.pub and
 * ~/.ssh/authorized_keys) plus corral's client key. Anything else is refused.
 */
import { chmod, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { userHome } from './paths.js';

const { utils } = ssh2;

/**
 * The key pair at `path` (and `path`.pub), made on first use. The private key is written to a
 * temporary file and linked into place, so two processes making it at once agree on one key; the
 * public half is always derived from the private key that won.
 */
export async function ensureKeyPair(
  path: string,
  comment: string,
): Promise<{ private: string; public: string }> {
  let text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
    return undefined;
  });
  if (text === undefined) {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, utils.generateKeyPairSync('ed25519', { comment }).private, { mode: 0o600 });
    try {
      await link(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await rm(tmp, { force: true });
    }
    text = await readFile(path, 'utf8');
  }
  const key = parseOne(text);
  if (!key) throw new Error(`${path} is not a private key corral can read; remove it to make a new one`);
  const pub = `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
  const onDisk = await readFile(`${path}.pub`, 'utf8').catch(() => '');
  if (onDisk.trim() !== pub) await writeFile(`${path}.pub`, `${pub}\n`, { mode: 0o644 });
  return { private: text, public: pub };
}

function parseOne(text: string): ParsedKey | undefined {
  const k = utils.parseKey(text);
  if (k instanceof Error) return undefined;
  return Array.isArray(k) ? k[0] : k;
}

/** The public keys in an authorized_keys or .pub file (options before the key type are skipped). */
export function parsePublicKeys(text: string): ParsedKey[] {
  const keys: ParsedKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.search(/(?:^|\s)(ssh-|ecdsa-|sk-)/);
    const k = parseOne(at < 0 ? line : line.slice(at).trim());
    if (k) keys.push(k);
  }
  return keys;
}

/** Read afresh on every login attempt: a key the user adds later works without a restart. */
export async function authorizedKeys(env: NodeJS.ProcessEnv, clientKeyPub: string): Promise<ParsedKey[]> {
  const sshDir = join(userHome(env), '.ssh');
  const files = await readdir(sshDir).catch(() => [] as string[]);
  const texts = await Promise.all(
    files
      .filter((f) => f.endsWith('.pub') || f === 'authorized_keys')
      .map((f) => readFile(join(sshDir, f), 'utf8').catch(() => '')),
  );
  return [...parsePublicKeys(clientKeyPub), ...texts.flatMap(parsePublicKeys)];
}
