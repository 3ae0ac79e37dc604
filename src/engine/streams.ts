import { PassThrough, type Readable } from 'node:stream';

/**
 * Follow a Docker-style JSON-lines progress stream (build, pull, import) to its end. Each
 * `{stream}`/`{status}` line goes to onOutput; an `{error}` line fails the whole operation.
 */
export function followJsonStream(
  stream: NodeJS.ReadableStream,
  onOutput: ((line: string) => void) | undefined,
  onError: (message: string) => never,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let failed: unknown;
    const handle = (line: string) => {
      if (!line.trim()) return;
      let msg: {
        stream?: string;
        status?: string;
        progress?: string;
        error?: string;
        errorDetail?: { message?: string };
      };
      try {
        msg = JSON.parse(line);
      } catch {
        onOutput?.(line);
        return;
      }
      if (msg.error || msg.errorDetail) {
        try {
          onError(msg.errorDetail?.message ?? msg.error ?? 'unknown error');
        } catch (e) {
          failed ??= e;
        }
        return;
      }
      const text =
        msg.stream ?? (msg.status ? `${msg.status}${msg.progress ? ` ${msg.progress}` : ''}` : undefined);
      if (text) for (const l of text.split('\n')) if (l.trim()) onOutput?.(l);
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) handle(l);
    });
    stream.on('end', () => {
      handle(buffered);
      if (failed) reject(failed);
      else resolve();
    });
    stream.on('error', reject);
  });
}

/** Read a multiplexed exec stream to its end and return both channels as text. */
export function collectExec(
  stream: Readable,
  demux: (s: Readable, out: NodeJS.WritableStream, err: NodeJS.WritableStream) => void,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o: Buffer[] = [];
    const e: Buffer[] = [];
    out.on('data', (c: Buffer) => o.push(c));
    err.on('data', (c: Buffer) => e.push(c));
    demux(stream, out, err);
    stream.on('end', () =>
      resolve({ stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() }),
    );
    stream.on('close', () =>
      resolve({ stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() }),
    );
    stream.on('error', reject);
  });
}

/**
 * Split Docker's multiplexed stream (8-byte header: type, 3 zero bytes, big-endian length) into
 * stdout and stderr. Iterative: docker-modem's recursive parser overflows the stack on large
 * `logs` responses with thousands of frames in one chunk.
 */
export function demuxFrames(
  stream: Readable,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): void {
  let buf: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 8) {
      const type = buf[off]!;
      const len = buf.readUInt32BE(off + 4);
      if (buf.length - off - 8 < len) break;
      const payload = buf.subarray(off + 8, off + 8 + len);
      (type === 2 ? stderr : stdout).write(payload);
      off += 8 + len;
    }
    buf = off ? Buffer.from(buf.subarray(off)) : buf;
  });
}
