/**
 * The CLI runs from an esbuild bundle with code splitting (scripts/bundle.mjs). There, `await
 * import('pkg')` of a CommonJS package yields only `default` (module.exports): named exports that
 * Node's own loader would offer are undefined, and the failure shows only at run time, on the path
 * that loads the package. So source takes CommonJS exports from `.default`, which works both ways.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');
// ES module packages (named exports survive bundling) and packages left out of the bundle.
const ESM_OR_EXTERNAL = new Set([
  'zod',
  'dockerode',
  'ink',
  'react',
  'jsonc-parser',
  '@kubernetes/client-node',
]);

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.tsx')) out.push(p);
  }
  return out;
}

/** Each dynamic import of a bare CommonJS package that does not go through `.default`. */
function namedCjsImports(text: string): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(
    /(const\s+(\{[^}]*\}|\w+)\s*=\s*)?\(?await import\('([^'.][^']*)'\)(\)?\.default)?/g,
  )) {
    const [whole, , binding, spec, viaDefault] = m;
    if (spec!.startsWith('node:') || ESM_OR_EXTERNAL.has(spec!)) continue;
    if (viaDefault || binding?.includes('default')) continue;
    bad.push(whole!);
  }
  return bad;
}

describe('dynamic imports of CommonJS packages', () => {
  it('the check itself tells the two forms apart', () => {
    expect(namedCjsImports("const { parse } = await import('yaml');")).toHaveLength(1);
    expect(namedCjsImports("const { parse } = (await import('yaml')).default;")).toEqual([]);
    expect(namedCjsImports("const { default: tar } = await import('tar-stream');")).toEqual([]);
    expect(namedCjsImports("const { z } = await import('zod');")).toEqual([]);
    expect(namedCjsImports("const m = await import('./local.js');")).toEqual([]);
  });

  it('go through `.default` everywhere in src/', async () => {
    const bad: string[] = [];
    for (const file of await sources(SRC)) {
      for (const hit of namedCjsImports(await readFile(file, 'utf8'))) bad.push(`${file}: ${hit}`);
    }
    expect(bad).toEqual([]);
  });
});
