/**
 * One SSH session channel, mapped onto an exec in the sandbox as the agent user: a shell (with a
 * PTY and window resizes when the client asked for one), a command with its exit status, or the
 * sftp subsystem (OpenSSH's sftp-server, run inside the sandbox, so every file operation happens
 * with the agent's rights and the sandbox's view of the filesystem).
 */
import type { Duplex } from 'node:stream';
import type { PseudoTtyInfo, ServerChannel, Session } from 'ssh2';

export type SandboxExec = (
  cmd: string[],
  opts: { tty: boolean; env: Record<string, string> },
) => Promise<{
  stream: Duplex;
  exitCode: () => Promise<number>;
  resize: (rows: number, cols: number) => Promise<void>;
  demux: (stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) => void;
}>;

/** bash when the image has it (what editors' remote scripts expect), else sh. Not a login shell:
 * Debian's /etc/profile would replace the image's PATH (agent tools, Node) with its own. */
const SHELL = ['/bin/sh', '-c', 'command -v bash >/dev/null 2>&1 && exec bash || exec sh'];
const COMMAND = (command: string) => [
  '/bin/sh',
  '-c',
  'if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; else exec sh -c "$1"; fi',
  'sh',
  command,
];
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const SFTP = [
  '/bin/sh',
  '-c',
  `[ -x ${SFTP_SERVER} ] && exec ${SFTP_SERVER}; echo "corral: this sandbox's image has no ${SFTP_SERVER}; rebuild it (corral image build)" >&2; exit 127`,
];

/** Variables a client may set (as OpenSSH's default AcceptEnv): locale and terminal only. */
const ACCEPTED_ENV = /^(LANG|LC_[A-Z_]+|COLORTERM)$/;

export function serveSession(session: Session, exec: SandboxExec, log: (line: string) => void): void {
  let pty: PseudoTtyInfo | undefined;
  const env: Record<string, string> = {};
  let resize: ((rows: number, cols: number) => Promise<void>) | undefined;
  session.on('pty', (accept, _reject, info) => {
    pty = info;
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    if (pty) Object.assign(pty, { rows: info.rows, cols: info.cols });
    void resize?.(info.rows, info.cols);
    accept?.();
  });
  session.on('env', (accept, reject, info) => {
    if (!ACCEPTED_ENV.test(info.key)) return reject?.();
    env[info.key] = info.val;
    accept?.();
  });
  const run = async (channel: ServerChannel, cmd: string[], allowTty: boolean) => {
    const tty = allowTty && pty !== undefined;
    try {
      const ex = await exec(cmd, { tty, env: { ...env, ...(tty ? { TERM: pty?.term || 'xterm' } : {}) } });
      channel.on('close', () => ex.stream.destroy());
      ex.stream.on('error', () => channel.close());
      if (tty && pty) {
        resize = ex.resize;
        await ex.resize(pty.rows, pty.cols);
        ex.stream.pipe(channel, { end: false });
        // A TTY has no EOF (Ctrl-D is a keystroke); some engines drop a TTY exec on half-close.
        channel.pipe(ex.stream, { end: false });
      } else {
        ex.demux(channel, channel.stderr);
        // End of the client's input reaches the command as EOF (`ssh host cat < file`, sftp).
        channel.pipe(ex.stream);
      }
      const code = await ex.exitCode();
      if (!channel.destroyed) {
        channel.exit(code < 0 ? 255 : code);
        channel.end();
      }
    } catch (e) {
      log(`ssh: session failed: ${(e as Error).message}`);
      if (!channel.destroyed) {
        channel.stderr.write(`corral: ${(e as Error).message}\n`);
        channel.exit(255);
        channel.end();
      }
    }
  };
  session.on('shell', (accept) => void run(accept(), SHELL, true));
  session.on('exec', (accept, _reject, info) => void run(accept(), COMMAND(info.command), true));
  session.on('subsystem', (accept, reject, info) => {
    if (info.name !== 'sftp') return reject();
    void run(accept(), SFTP, false);
  });
  // No X11 or agent forwarding: nothing from the host is handed into the sandbox that way.
  session.on('x11', (_accept, reject) => reject?.());
  session.on('auth-agent', (_accept, reject) => reject?.());
}
