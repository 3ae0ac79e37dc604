#!/usr/bin/env node
// Three bundles, built after tsc:
// - the sandbox's forwarder runs on the agent image's Node, copied alone into the sandbox, so it
//   is one file that needs only Node's built-ins;
// - the gateway container runs one self-contained file on a bare Node, so its entry point and
//   dependencies (the X.509 library) go into one file and the image needs no node_modules;
// - the CLI: Node spends ~100 ms resolving and loading corral's and its dependencies' hundreds of
//   small modules before a command starts (zod alone: 70 ms as files, 28 ms bundled). Bundled
//   with code splitting, commands still load lazily what only they need. dist/bundle/ sits two
//   levels below the package root, like dist/<dir>/, so `new URL('../../…', import.meta.url)`
//   paths hold in both.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// The config schema's identity, for src/config/verdicts.ts: its source and the zod that runs it.
const schemaHash = createHash('sha256')
  .update(readFileSync('src/config/schema.ts'))
  .update(readFileSync('node_modules/zod/package.json'))
  .digest('hex')
  .slice(0, 16);

// This build's identity: a CLI and a daemon of different builds must not talk (core/daemon-control.ts).
const buildHash = createHash('sha256');
for (const f of readdirSync('src', { recursive: true }).sort()) {
  const path = join('src', String(f));
  if (/\.(ts|tsx)$/.test(path)) buildHash.update(path).update(readFileSync(path));
}
const buildId = buildHash.update(readFileSync('package.json')).digest('hex').slice(0, 12);

// Some bundled CommonJS code calls require() for Node built-ins, which ESM output lacks.
const banner = {
  js: "import { createRequire as __corralRequire } from 'node:module'; const require = __corralRequire(import.meta.url);",
};

await build({
  entryPoints: ['src/gateway/forwarder.ts'],
  outfile: 'dist/gateway/forwarder.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});

// The sandbox's relay (relay/, Go): a static binary that starts in milliseconds where the Node
// forwarder above takes ~80 ms and ~13 MB in every sandbox. Without Go the build goes on, and
// sandboxes run the Node forwarder (src/sandbox/gateway-side.ts chooses at start).
const relayOut = 'dist/gateway/corral-relay';
const go = [process.env.GO, 'go', '/usr/local/go/bin/go'].find(
  (g) => g && spawnSync(g, ['version'], { stdio: 'ignore' }).status === 0,
);
rmSync(relayOut, { force: true });
if (!go) {
  console.warn('corral build: no Go toolchain (go, /usr/local/go/bin/go): sandboxes will run the Node forwarder');
} else {
  const r = spawnSync(
    go,
    ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', `../${relayOut}`, '.'],
    { cwd: 'relay', stdio: 'inherit', env: { ...process.env, CGO_ENABLED: '0' } },
  );
  if (r.status !== 0 || !existsSync(relayOut)) throw new Error('corral build: the Go relay (relay/) did not build');
}

await build({
  entryPoints: ['src/gateway/main.ts'],
  outfile: 'dist/gateway/gateway.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  banner,
  minify: true,
  logLevel: 'warning',
});

await build({
  entryPoints: { main: 'src/cli/main.ts', daemon: 'src/daemon/main.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  banner,
  // Left in node_modules: native addons (dockerode's ssh2), Ink's optional devtools, and
  // jsonc-parser, whose UMD build requires its own files through a parameter esbuild cannot see,
  // better-sqlite3 (a native addon: the task store) and ssh2 (loads its optional native crypto
  // addon by a relative path).
  external: ['dockerode', 'ink', 'react', 'react-devtools-core', 'jsonc-parser', 'better-sqlite3', 'ssh2'],
  define: { __CORRAL_SCHEMA_HASH__: JSON.stringify(schemaHash), __CORRAL_BUILD__: JSON.stringify(buildId) },
  logLevel: 'warning',
});

// A UMD module bundled here would require its own files at run time, relative to dist/bundle/,
// and fail only on the path that loads it: refuse to build instead (add it to `external`).
for (const file of readdirSync('dist/bundle')) {
  if (readFileSync(`dist/bundle/${file}`, 'utf8').includes('define.amd'))
    throw new Error(`dist/bundle/${file} contains a UMD module; add its package to external in scripts/bundle.mjs`);
}
