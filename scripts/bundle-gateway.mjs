#!/usr/bin/env node
// The gateway container runs one self-contained file on a bare Node: bundle its entry point and
// dependencies (the X.509 library) so the image needs no node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/gateway/main.ts'],
  outfile: 'dist/gateway/gateway.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // Some bundled CommonJS code calls require() for Node built-ins, which ESM output lacks.
  banner: { js: "import { createRequire as __corralRequire } from 'node:module'; const require = __corralRequire(import.meta.url);" },
  minify: true,
  logLevel: 'warning',
});
