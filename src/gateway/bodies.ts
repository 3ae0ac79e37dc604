/**
 * Opt-in body logging (egress.log_bodies / --log-bodies): the first BODY_LOG_LIMIT bytes of each
 * request and response body the gateway can see (plain HTTP and intercepted TLS), kept only when
 * they are text. Capturing copies at most the limit per body and stops looking after it, so
 * downloads stream on at full speed; the audit log redacts what is kept before it is written.
 */
import type { Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** At most this much of each body is logged (after decompression). */
export const BODY_LOG_LIMIT = 64 * 1024;

/** A body as the audit log records it: text (redacted on write), or why it was left out. */
export type LoggedBody = { text: string; truncated?: true } | { omitted: string };

const TEXT_TYPES =
  /^(text\/|application\/(json|[\w.+-]+\+json|x-ndjson|xml|[\w.+-]+\+xml|x-www-form-urlencoded|javascript|graphql))/i;

// A truncated compressed prefix still decodes up to where it stops.
const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }),
  'x-gzip': () => createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }),
  deflate: () => createInflate({ finishFlush: constants.Z_SYNC_FLUSH }),
  br: () => createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH }),
};

/** Decode until just past the limit and stop there: a small compressed body can inflate to gigabytes. */
function decodeHead(decoder: Transform, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let n = 0;
    decoder.on('data', (c: Buffer) => {
      out.push(c);
      n += c.length;
      if (n > BODY_LOG_LIMIT) {
        decoder.destroy();
        resolve(Buffer.concat(out));
      }
    });
    decoder.on('end', () => resolve(Buffer.concat(out)));
    decoder.on('error', reject);
    decoder.end(input);
  });
}

/** Collects the head of one body as it streams past. */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Bytes seen in all, kept or not. */
  total = 0;

  add(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= BODY_LOG_LIMIT) return;
    const part = chunk.subarray(0, BODY_LOG_LIMIT - this.kept);
    // Copied: the proxy hands the chunk on, and its memory may be reused.
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  /** What to log, given the body's headers; undefined when there was no body. */
  async result(headers: {
    'content-type'?: string;
    'content-encoding'?: string;
  }): Promise<LoggedBody | undefined> {
    if (this.total === 0) return undefined;
    const type = headers['content-type']?.split(';')[0]?.trim() ?? '';
    if (type && !TEXT_TYPES.test(type)) return { omitted: `not text (${type})` };
    let data: Buffer = Buffer.concat(this.chunks);
    let truncated = this.total > this.kept;
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      const decoder = DECODERS[encoding];
      if (!decoder) return { omitted: `content-encoding ${encoding}` };
      try {
        data = await decodeHead(decoder(), data);
      } catch {
        return { omitted: `content-encoding ${encoding} that does not decode` };
      }
    }
    if (data.length > BODY_LOG_LIMIT) {
      data = data.subarray(0, BODY_LOG_LIMIT);
      truncated = true;
    }
    const text = new TextDecoder('utf-8').decode(data);
    // Without a content type, judge by the bytes: NULs or undecodable bytes mean binary.
    if (!type && looksBinary(text, truncated)) return { omitted: 'not text' };
    return truncated ? { text, truncated: true } : { text };
  }
}

function looksBinary(text: string, truncated: boolean): boolean {
  // A cut at the limit may split one multi-byte character: allow a replacement char at the end.
  const body = truncated ? text.slice(0, -1) : text;
  return body.includes('\0') || body.includes('\uFFFD');
}
