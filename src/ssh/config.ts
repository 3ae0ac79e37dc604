/**
 * The client side of `corral ssh-config`: one `Host corral-<workspace>-<agent>` entry per running
 * sandbox in a file of corral's own, a known_hosts file with the server's host key (so OpenSSH
 * verifies it, strictly), and, with --install, one `Include` line at the top of ~/.ssh/config.
 * The user's own entries are never rewritten or reordered.
 */
import { chmod, mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The name OpenSSH files corral's host key under (the same key serves every sandbox). */
export const HOST_KEY_ALIAS = 'corral-ssh';

export interface SshHostEntry {
  /** The Host alias and SSH user name: the sandbox's container name. */
  host: string;
  agent: string;
  workspacePath: string;
  hostName: string;
  port: number;
  user: string;
  identityFile: string;
  hostKeyAlias: string;
  knownHostsFile: string;
}

/** A value as ssh_config reads it: quoted when it has spaces. */
const q = (v: string) => (/[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);

export function renderSshConfig(entries: SshHostEntry[]): string {
  const lines = [
    '# Written by `corral ssh-config`; rewritten each time it runs. Do not edit: your changes would be lost.',
    '',
  ];
  for (const e of entries) {
    lines.push(
      `# ${e.agent} in ${e.workspacePath.replace(/\n/g, ' ')}`,
      `Host ${e.host}`,
      `  HostName ${e.hostName}`,
      `  Port ${e.port}`,
      `  User ${e.user}`,
      `  IdentityFile ${q(e.identityFile)}`,
      '  IdentitiesOnly yes',
      `  HostKeyAlias ${e.hostKeyAlias}`,
      `  UserKnownHostsFile ${q(e.knownHostsFile)}`,
      '  StrictHostKeyChecking yes',
      '',
    );
  }
  // Back to "every host" for whatever follows the Include in the user's file.
  lines.push('Match all', '');
  return lines.join('\n');
}

export function knownHostsLine(hostKeyPub: string): string {
  const [type, data] = hostKeyPub.trim().split(/\s+/);
  return `${HOST_KEY_ALIAS} ${type} ${data}\n`;
}

/** Write `text` to `path` (0600) through a temporary file, so a reader never sees half of it. */
export async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** `Include` lines naming `file` (quoted or not, among other files or alone). */
const includes = (line: string, file: string) => {
  const m = /^\s*include\s+(.+?)\s*$/i.exec(line);
  if (!m) return false;
  const words = m[1]!.match(/"[^"]*"|\S+/g) ?? [];
  return words.some((w) => w.replace(/^"|"$/g, '') === file);
};

/**
 * Make ~/.ssh/config include `file`: one line added at the very top (where it applies to every
 * host), nothing else touched. Returns false when the line was already there.
 */
export async function installInclude(home: string, file: string): Promise<{ path: string; added: boolean }> {
  const sshDir = join(home, '.ssh');
  const path = join(sshDir, 'config');
  // A dotfiles manager's symlink stays a symlink: the file it points to is the one rewritten.
  const target = await realpath(path).catch(() => path);
  let text = '';
  let mode = 0o600;
  try {
    text = await readFile(target, 'utf8');
    mode = (await stat(target)).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(sshDir, { recursive: true, mode: 0o700 });
  }
  if (text.split('\n').some((l) => includes(l, file))) return { path, added: false };
  const line = `Include ${q(file)}\n`;
  const tmp = `${target}.corral.tmp`;
  await writeFile(tmp, `${line}${text}`, { mode });
  await chmod(tmp, mode);
  await rename(tmp, target);
  return { path, added: true };
}
