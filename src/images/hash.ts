import { createHash } from 'node:crypto';

/** Content tag: first 12 hex of sha256 over every input, in order. Same inputs, same tag. */
export function contentHash(...inputs: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const i of inputs) {
    h.update(typeof i === 'string' ? Buffer.from(i) : i);
    h.update('\0');
  }
  return h.digest('hex').slice(0, 12);
}
