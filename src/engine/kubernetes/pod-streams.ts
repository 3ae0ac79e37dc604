/**
 * A pod's byte streams over the API server: attach, logs, exec (collected or interactive) and a
 * file as a tar. Sessions are tracked per pod so a resize reaches every viewer of its TTY.
 */
import type { Readable } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import type { AttachOptions, ExecOptions, ExecResult } from '../types.js';
import { pipeLog, startExec } from './channels.js';
import type { Clients } from './client.js';
import { CONTAINER } from './names.js';
import { framer, Session } from './streams.js';

export class PodStreams {
  private readonly sessions = new Map<string, Set<Session>>();

  constructor(
    private readonly c: Clients,
    private readonly ns: string,
    /** Resolves once the pod's container runs (true) or has already ended (false). */
    private readonly running: (id: string) => Promise<boolean>,
  ) {}

  attach(id: string, opts: AttachOptions): Session {
    const session = this.track(id, new Session());
    void (async () => {
      const live = await this.running(id);
      if (live && opts.stdin) {
        let got = false;
        const counted = (out: Writable) =>
          new Writable({
            write(chunk: Buffer, enc, done) {
              got = true;
              out.write(chunk, enc, done);
            },
          });
        const ws = await new this.c.lib.Attach(this.c.kc).attach(
          this.ns,
          id,
          CONTAINER,
          counted(opts.tty ? session.tty : framer(session, 1)),
          opts.tty ? null : counted(framer(session, 2)),
          session.input,
          opts.tty,
        );
        session.onClose(() => ws.close());
        await new Promise((r) => ws.once('close', r));
        // A command that ended before the attach was made: its output is only in the log.
        if (!got) await this.pipeLog(id, session, opts.tty, {});
      } else {
        await this.pipeLog(id, session, opts.tty, { follow: true });
      }
      session.finish();
    })().catch((e: Error) => session.destroy(e));
    return session;
  }

  resize(id: string, rows: number, cols: number): void {
    for (const s of this.sessions.get(id) ?? []) s.resize(rows, cols);
  }

  async logs(id: string, opts: { follow?: boolean; tail?: number }): Promise<Readable> {
    const pod = await this.c.core.readNamespacedPod({ name: id, namespace: this.ns });
    const tty = pod.spec?.containers.find((c) => c.name === CONTAINER)?.tty ?? false;
    const session = new Session();
    void this.pipeLog(id, session, tty, opts)
      .then(() => session.finish())
      .catch((e: Error) => session.destroy(e));
    return session;
  }

  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) =>
      new Writable({
        write(c: Buffer, _e, done) {
          into.push(c);
          done();
        },
      });
    const { exitCode } = await this.startExec(id, cmd, opts, sink(out), sink(err), null, false);
    const code = await exitCode;
    return { exitCode: code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  async execStream(id: string, cmd: string[], opts: ExecOptions = {}) {
    const session = new Session();
    const tty = opts.tty ?? false;
    const { exitCode, ws } = await this.startExec(
      id,
      cmd,
      opts,
      tty ? session.tty : framer(session, 1),
      tty ? null : framer(session, 2),
      opts.stdin ? session.input : null,
      tty,
    );
    ws.once('close', () => session.finish());
    session.onClose(() => ws.close());
    return {
      stream: session,
      exitCode: () => exitCode,
      resize: async (r: number, c: number) => session.resize(r, c),
    };
  }

  /** A file or folder of a running pod as a tar (undefined when tar fails, e.g. it is missing). */
  async archive(id: string, path: string): Promise<Buffer | undefined> {
    const slash = path.lastIndexOf('/');
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    const { exitCode } = await this.startExec(
      id,
      ['tar', '-C', path.slice(0, slash) || '/', '-cf', '-', path.slice(slash + 1)],
      {},
      sink,
      null,
      null,
      false,
    );
    return (await exitCode) === 0 ? Buffer.concat(chunks) : undefined;
  }

  private pipeLog(id: string, session: Session, tty: boolean, opts: { follow?: boolean; tail?: number }) {
    return pipeLog(this.c, this.ns, id, session, tty, opts);
  }

  private startExec(
    id: string,
    cmd: string[],
    opts: ExecOptions,
    stdout: Writable,
    stderr: Writable | null,
    stdin: Readable | null,
    tty: boolean,
  ) {
    return startExec(this.c, this.ns, id, cmd, opts, { stdout, stderr, stdin, tty });
  }

  private track(id: string, s: Session): Session {
    const set = this.sessions.get(id) ?? new Set();
    set.add(s);
    this.sessions.set(id, set);
    s.once('close', () => set.delete(s));
    return s;
  }
}
