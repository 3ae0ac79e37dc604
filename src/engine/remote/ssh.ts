/**
 * The OpenSSH client as corral's transport to another machine. One master connection per target
 * (ControlMaster, kept 30 minutes after last use) carries every remote command and the socket
 * forwards, so later corral commands reuse it instead of paying a handshake each. Host keys are
 * always checked against the user's known_hosts (StrictHostKeyChecking=yes: an unknown or changed
 * key is refused, never accepted), no password is ever asked (BatchMode), and all forwards are
 * unix sockets in a 0700 folder of the user's: nothing listens on a TCP port.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CorralError } from '../../errors.js';
import { shellQuote } from '../command-line.js';
import { formatSshUrl, type SshTarget } from './url.js';

export interface SshResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Where the control sockets and forwarded sockets live: the user's runtime dir, private. */
export function sshRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const base =
    env.CORRAL_SSH_DIR ??
    (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'corral-ssh') : `/tmp/corral-ssh-${uid}`);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  // A folder another user made (or a symlink planted in /tmp) would let them reach the forwards.
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new CorralError(
      'ENGINE_UNREACHABLE',
      `${base} must be a folder of your own, closed to others (mode 0700), for corral's SSH sockets.`,
      `Remove it (rm -rf ${base}) and run corral again, or set CORRAL_SSH_DIR to a private folder.`,
    );
  }
  return base;
}

export class SshSession {
  readonly url: string;
  readonly controlPath: string;

  constructor(
    readonly target: SshTarget,
    readonly dir: string,
    /** An ssh_config file (`-F`), from CORRAL_SSH_CONFIG: identity, known_hosts, jump hosts. */
    private readonly configFile?: string,
  ) {
    this.url = formatSshUrl({ ...target, socket: undefined } as SshTarget);
    this.controlPath = join(dir, `cm-${this.key()}`);
  }

  /** A short, stable name for this target's files (socket paths are limited to ~100 bytes). */
  key(): string {
    return createHash('sha256').update(this.url).digest('hex').slice(0, 16);
  }

  private args(extra: string[] = []): string[] {
    const t = this.target;
    return [
      ...(this.configFile ? ['-F', this.configFile] : []),
      ...opts([
        'BatchMode=yes',
        'StrictHostKeyChecking=yes',
        `ControlPath=${this.controlPath}`,
        'ConnectTimeout=10',
        'ServerAliveInterval=15',
      ]),
      ...(t.port ? ['-p', String(t.port)] : []),
      ...extra,
      '--',
      t.user ? `${t.user}@${t.host}` : t.host,
    ];
  }

  /** Open the master connection unless one is alive. */
  async connect(): Promise<void> {
    if ((await this.ssh(['-O', 'check'], [])).code === 0) return;
    rmSync(this.controlPath, { force: true });
    // `true` runs once and the master stays behind (ControlPersist) for the commands that follow.
    const r = await this.ssh(
      opts([
        'ControlMaster=yes',
        'ControlPersist=30m',
        'StreamLocalBindUnlink=yes',
        'ExitOnForwardFailure=yes',
        'ClearAllForwardings=no',
      ]),
      ['true'],
    );
    if (r.code !== 0) throw this.connectError(r.stderr);
  }

  /** The ssh command line for a control command (`-O …`) on the master, as corral runs it. */
  argv(extra: string[]): string[] {
    return ['ssh', ...this.args(extra)];
  }

  /** Run a shell command line on the remote machine (through the master). */
  run(command: string, input?: Readable | Buffer): Promise<SshResult> {
    return this.ssh(['-o', 'ControlMaster=no'], [command], input);
  }

  /** Like run, but a failure is an error naming `what`. */
  async check(command: string, what: string, input?: Readable | Buffer): Promise<Buffer> {
    const r = await this.run(command, input);
    if (r.code !== 0) {
      throw new CorralError(
        'ENGINE_ERROR',
        `${what} on ${this.url} failed: ${r.stderr.trim().slice(-400) || `exit ${r.code}`}`,
      );
    }
    return r.stdout;
  }

  /** A local unix socket that reaches `remote` (a unix socket on the other machine). */
  async forwardLocal(local: string, remote: string): Promise<void> {
    const r = await this.ssh(['-O', 'forward', '-L', `${local}:${remote}`], []);
    if (r.code !== 0) throw this.forwardError(r.stderr, remote);
  }

  /** Undo forwardLocal (the master stops listening on `local`, which is removed). */
  async cancelLocal(local: string, remote: string): Promise<void> {
    await this.ssh(['-O', 'cancel', '-L', `${local}:${remote}`], []);
    rmSync(local, { force: true });
  }

  /** A unix socket on the other machine that reaches `local` here (the host bridge). */
  async forwardRemote(remote: string, local: string): Promise<void> {
    // sshd refuses to bind over a stale socket unless its own config says otherwise.
    await this.run(`mkdir -p "$(dirname ${shellQuote(remote)})" && rm -f ${shellQuote(remote)}`);
    const r = await this.ssh(['-O', 'forward', '-R', `${remote}:${local}`], []);
    if (r.code !== 0) throw this.forwardError(r.stderr, remote);
    // sshd makes it 0600 (StreamLocalBindMask): a sandbox under another uid (Docker's 1000) could
    // not connect. As on this machine, the folder is the boundary and the bridge wants its token.
    await this.run(`chmod 0666 ${shellQuote(remote)}`);
  }

  /** `-L addr:port:remote-socket`: a port here, through the master, to a unix socket there. */
  async forwardPort(spec: string): Promise<void> {
    const r = await this.ssh(['-O', 'forward', '-L', spec], []);
    if (r.code !== 0) {
      const [addr, port] = spec.split(':');
      throw new CorralError(
        'ENGINE_ERROR',
        `Could not publish ${addr}:${port} here for the sandbox on ${this.url}: ${lastLine(r.stderr) || 'ssh refused'}`,
        'Pick another host port (--port HOST:SANDBOX), or stop what listens on it.',
      );
    }
  }

  async cancelPort(spec: string): Promise<void> {
    await this.ssh(['-O', 'cancel', '-L', spec], []);
  }

  async cancelRemote(remote: string, local: string): Promise<void> {
    await this.ssh(['-O', 'cancel', '-R', `${remote}:${local}`], []);
    await this.run(`rm -f ${shellQuote(remote)}`);
  }

  private ssh(extra: string[], command: string[], input?: Readable | Buffer): Promise<SshResult> {
    return new Promise((resolve) => {
      const p = spawn('ssh', [...this.args(extra), ...command], {
        stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      let err = '';
      p.stdout?.on('data', (d: Buffer) => out.push(d));
      p.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      if (input && p.stdin) {
        p.stdin.on('error', () => undefined);
        if (Buffer.isBuffer(input)) p.stdin.end(input);
        else input.pipe(p.stdin);
      }
      p.on('error', (e) =>
        resolve({
          code: -1,
          stdout: Buffer.alloc(0),
          stderr: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'ssh: not installed' : e.message,
        }),
      );
      p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    });
  }

  private connectError(stderr: string): CorralError {
    const where = this.url;
    const keyscan = `ssh-keyscan ${this.target.port ? `-p ${this.target.port} ` : ''}${this.target.host}`;
    if (/IDENTIFICATION HAS CHANGED|key for .* has changed/i.test(stderr)) {
      return new CorralError(
        'ENGINE_UNREACHABLE',
        `The SSH host key of ${where} does not match the one in your known_hosts: corral refused to connect.`,
        `This can mean someone is intercepting the connection. If the machine was really reinstalled, check its new key with its owner, then \`ssh-keygen -R ${this.target.host}\` and connect once with \`ssh\` to accept it.`,
      );
    }
    if (/host key verification failed|no .*host key is known/i.test(stderr)) {
      return new CorralError(
        'ENGINE_UNREACHABLE',
        `The SSH host key of ${where} is not in your known_hosts: corral does not accept unknown hosts.`,
        `Connect once with \`ssh ${this.target.port ? `-p ${this.target.port} ` : ''}${this.target.user ? `${this.target.user}@` : ''}${this.target.host}\` and compare the fingerprint with the machine's (\`${keyscan}\` prints it), so it lands in ~/.ssh/known_hosts.`,
      );
    }
    if (/permission denied/i.test(stderr)) {
      return new CorralError(
        'ENGINE_UNREACHABLE',
        `${where} refused your SSH key: ${lastLine(stderr)}`,
        'Load the key into your agent (`ssh-add`) or name it with IdentityFile in ~/.ssh/config; corral never asks for passwords.',
      );
    }
    if (/not installed/.test(stderr)) {
      return new CorralError(
        'ENGINE_NOT_FOUND',
        'The OpenSSH client (ssh) is not installed.',
        'sudo apt-get install -y openssh-client',
      );
    }
    return new CorralError(
      'ENGINE_UNREACHABLE',
      `Cannot connect to ${where}: ${lastLine(stderr) || 'ssh failed'}`,
      'Check the address and that `ssh` reaches it from this machine.',
    );
  }

  private forwardError(stderr: string, remote: string): CorralError {
    return new CorralError(
      'ENGINE_UNREACHABLE',
      `Forwarding ${remote} over SSH to ${this.url} failed: ${lastLine(stderr) || 'ssh refused'}`,
      'The SSH server must allow stream-local forwarding (AllowStreamLocalForwarding, on by default).',
    );
  }
}

const opts = (list: string[]) => list.flatMap((o) => ['-o', o]);

function lastLine(s: string): string {
  return (
    s
      .trim()
      .split('\n')
      .filter((l) => l && !/^Warning: Permanently added/.test(l))
      .pop() ?? ''
  ).trim();
}
