/**
 * A pod's folder as one side of the workspace sync: shell commands (sha256sum, tar, rm) run in the
 * pod over the API server's exec stream, so the pod may be on any cluster; and a tree that leaves
 * out the paths a sandbox never sees (hidden files, masked folders), which therefore never travel.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { CorralError } from '../../errors.js';
import type { Shell } from '../remote/files.js';
import type { FileTree, Manifest } from '../remote/sync.js';
import { startExec } from './channels.js';
import type { Clients } from './client.js';

export class PodShell implements Shell {
  readonly url: string;

  constructor(
    private readonly c: Clients,
    private readonly ns: string,
    private readonly pod: string,
  ) {
    this.url = `pod ${pod} (namespace ${ns})`;
  }

  async run(command: string, input?: Readable | Buffer) {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) =>
      new Writable({
        write(c: Buffer, _e, done) {
          into.push(c);
          done();
        },
      });
    // A child process's stdout handed over as it is never reaches the exec stream (seen with tar's):
    // a PassThrough that reads it at once does.
    const stdin =
      input === undefined
        ? null
        : Buffer.isBuffer(input)
          ? Readable.from([input])
          : input.pipe(new PassThrough());
    const { exitCode } = await startExec(
      this.c,
      this.ns,
      this.pod,
      ['sh', '-c', command],
      {},
      {
        stdout: sink(out),
        stderr: sink(err),
        stdin,
        tty: false,
      },
    );
    const code = await exitCode;
    return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
  }

  async check(command: string, what: string, input?: Readable | Buffer): Promise<Buffer> {
    const r = await this.run(command, input);
    if (r.code !== 0) {
      throw new CorralError(
        'ENGINE_ERROR',
        `${what} in ${this.url} failed: ${r.stderr.trim().slice(-400) || `exit ${r.code}`}`,
      );
    }
    return r.stdout;
  }
}

/** `p` is `x` or inside `x/` for one of `prefixes`. */
export function excluded(p: string, prefixes: string[]): boolean {
  return prefixes.some((x) => p === x || p.startsWith(`${x}/`));
}

/** A tree without some paths: they are neither listed, packed, nor removed. */
export class Without implements FileTree {
  constructor(
    private readonly inner: FileTree,
    private readonly prefixes: string[],
    /** How messages name it, when not as `inner` does. */
    private readonly name?: string,
  ) {}

  get label(): string {
    return this.name ?? this.inner.label;
  }

  async manifest(): Promise<Manifest | undefined> {
    const m = await this.inner.manifest();
    if (!m) return m;
    for (const p of [...m.keys()]) if (excluded(p, this.prefixes)) m.delete(p);
    return m;
  }

  async pack(paths?: string[]): Promise<Readable> {
    // The whole tree is every listed file: a plain `tar .` would carry the left-out ones too.
    return this.inner.pack(paths ?? [...((await this.manifest())?.keys() ?? [])]);
  }

  unpack(tar: Readable): Promise<void> {
    return this.inner.unpack(tar);
  }

  remove(paths: string[]): Promise<void> {
    return this.inner.remove(paths.filter((p) => !excluded(p, this.prefixes)));
  }
}
