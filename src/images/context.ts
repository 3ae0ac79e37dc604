/** A build context as a tar stream: the Containerfile plus the layer's files. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LayerRecipe } from './recipes.js';

export const CONTAINERFILE = 'Containerfile';

export function buildContext(recipe: Pick<LayerRecipe, 'containerfile' | 'files'>): Readable {
  const out = new PassThrough();
  void (async () => {
    const { default: tar } = await import('tar-stream');
    const pack = tar.pack();
    Readable.from(pack as AsyncIterable<Buffer>).pipe(out);
    try {
      pack.entry({ name: CONTAINERFILE, mtime: new Date(0) }, recipe.containerfile);
      for (const [name, src] of Object.entries(recipe.files)) {
        if (typeof src === 'string' || Buffer.isBuffer(src)) {
          pack.entry({ name, mtime: new Date(0) }, src);
        } else {
          const size = (await stat(src.path)).size;
          const entry = pack.entry({ name, size, mtime: new Date(0) });
          await pipeline(createReadStream(src.path), entry);
        }
      }
      pack.finalize();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  // tar-stream v3 streams are streamx, not node streams; engines want a node Readable.
  return out;
}
