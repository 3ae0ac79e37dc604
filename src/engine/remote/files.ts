/**
 * Folders and files on the remote machine, through the SSH session: the stand-ins for the host
 * paths a local engine would bind-mount (the workspace, corral's empty folders, a masked file).
 */
import { Readable } from 'node:stream';
import { shellQuote } from '../command-line.js';
import type { SshSession } from './ssh.js';
import type { FileTree, Manifest } from './sync.js';

/**
 * Somewhere shell commands run with a byte stdin: a machine over SSH, a pod over the API's exec
 * stream. `url` names it in messages.
 */
export interface Shell {
  readonly url: string;
  run(command: string, input?: Readable | Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  /** Like run, but a failure is an error naming `what`. */
  check(command: string, what: string, input?: Readable | Buffer): Promise<Buffer>;
}

/** A folder reached through a shell (sha256sum, tar, rm there): the other side of a sync. */
export class ShellTree implements FileTree {
  constructor(
    private readonly ssh: Shell,
    readonly root: string,
  ) {}

  get label(): string {
    return `${this.ssh.url}:${this.root}`;
  }

  async manifest(): Promise<Manifest | undefined> {
    const r = await this.ssh.run(
      `cd ${shellQuote(this.root)} 2>/dev/null || exit 3; find . -type f -print0 | xargs -0 -r sha256sum`,
    );
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new Error(`listing ${this.label} failed: ${r.stderr.trim()}`);
    const out: Manifest = new Map();
    for (const line of r.stdout.toString().split('\n')) {
      // sha256sum escapes names with a newline or backslash (a leading `\`): those stay unsynced.
      const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(line);
      if (m) out.set(m[2]!, m[1]!);
    }
    return out;
  }

  async pack(paths?: string[]): Promise<Readable> {
    const dir = shellQuote(this.root);
    const out = paths
      ? await this.ssh.check(
          `tar -C ${dir} -cf - --null -T -`,
          'Reading files',
          Buffer.from(paths.map((p) => `./${p}\0`).join('')),
        )
      : await this.ssh.check(`tar -C ${dir} -cf - .`, 'Reading files');
    return Readable.from([out]);
  }

  async unpack(tar: Readable): Promise<void> {
    const dir = shellQuote(this.root);
    await this.ssh.check(`mkdir -p ${dir} && tar -C ${dir} -xf -`, 'Writing files', tar);
  }

  async remove(paths: string[]): Promise<void> {
    await this.ssh.check(
      `cd ${shellQuote(this.root)} && xargs -0 -r rm -f --`,
      'Removing files',
      Buffer.from(paths.map((p) => `./${p}\0`).join('')),
    );
  }
}

/**
 * Write one file on the remote machine in place: a container bind-mounts that very inode (a
 * sandbox's /etc/hosts), and a rename would leave it the old one. Written over first and cut to
 * length after, so a reader never sees it empty.
 */
export async function writeInPlace(
  ssh: SshSession,
  path: string,
  content: Buffer,
  mode = 0o644,
): Promise<void> {
  const p = shellQuote(path);
  await ssh.check(
    `mkdir -p "$(dirname ${p})" && touch ${p} && chmod u+w ${p} && dd of=${p} conv=notrunc status=none && ` +
      `truncate -s ${content.length} ${p} && chmod ${mode.toString(8)} ${p}`,
    'Writing a file',
    content,
  );
}

/** Copy one file's contents to a path on the remote machine. */
export async function putFile(ssh: SshSession, path: string, content: Buffer, mode = 0o644): Promise<void> {
  const p = shellQuote(path);
  await ssh.check(
    `mkdir -p "$(dirname ${p})" && cat > ${p}.tmp && chmod ${mode.toString(8)} ${p}.tmp && mv -f ${p}.tmp ${p}`,
    'Copying a file',
    content,
  );
}
