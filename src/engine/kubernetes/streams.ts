/**
 * Kubernetes delivers a container's stdout and stderr on separate channels of a WebSocket; the
 * rest of corral reads the engine's non-TTY streams in the Docker framing (8-byte headers naming
 * stdout or stderr), so the same demux works for every engine. These adapters frame the channels
 * and give callers one Duplex per session, as the local engines do.
 */
import { Duplex, PassThrough, Writable } from 'node:stream';

/** A Writable that frames everything written to it as `stream` (1 stdout, 2 stderr) into `into`. */
export function framer(into: Duplex | PassThrough, stream: 1 | 2): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(chunk.length, 4);
      pushOut(into, Buffer.concat([header, chunk]));
      done();
    },
  });
}

/** A Writable passing bytes straight on (TTY sessions: one raw stream). */
export function raw(into: Duplex | PassThrough): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      pushOut(into, chunk);
      done();
    },
  });
}

function pushOut(into: Duplex | PassThrough, chunk: Buffer) {
  if (into instanceof Session) into.push(chunk);
  else into.write(chunk);
}

/**
 * One side of a session: what the caller writes goes to `input` (the container's stdin), what the
 * container prints is pushed into it for the caller to read. `resize` events carry terminal sizes
 * (the client reads `rows`/`columns` from the stdout stream it is given).
 */
export class Session extends Duplex {
  readonly input = new PassThrough();
  readonly tty: Writable & { rows: number; columns: number };
  private closers: (() => void)[] = [];

  constructor() {
    super({ allowHalfOpen: true });
    this.tty = Object.assign(raw(this), { rows: 24, columns: 80 });
    this.once('finish', () => this.input.end());
  }
  override _read() {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void) {
    this.input.write(chunk, done);
  }
  override _final(done: () => void) {
    this.input.end();
    done();
  }
  resize(rows: number, cols: number) {
    this.tty.rows = rows;
    this.tty.columns = cols;
    this.tty.emit('resize');
  }
  onClose(f: () => void) {
    this.closers.push(f);
  }
  /** The container side ended: no more output. */
  finish() {
    this.push(null);
  }
  override _destroy(err: Error | null, done: (e: Error | null) => void) {
    for (const f of this.closers) f();
    this.input.destroy();
    done(err);
  }
}
