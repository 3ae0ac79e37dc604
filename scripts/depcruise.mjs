#!/usr/bin/env node
// Layering check (.dependency-cruiser.cjs) over src/ as it runs: esbuild transpiles each file
// (dropping type-only imports, as tsc does), keeping paths, so dependency-cruiser reports src/…
// names. `node scripts/depcruise.mjs [ROOT]` checks ROOT/src (default: this checkout); extra
// arguments go to depcruise. Exits non-zero on a violation (there is no list of tolerated ones).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [rootArg, ...rest] = process.argv.slice(2);
const root = resolve(rootArg && !rootArg.startsWith('-') ? rootArg : here);
const extra = rootArg && !rootArg.startsWith('-') ? rest : process.argv.slice(2);
const out = mkdtempSync(join(tmpdir(), 'corral-depcruise-'));
try {
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') || name.endsWith('.tsx')) {
        const target = join(out, relative(root, path)).replace(/\.tsx?$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        const { code } = transformSync(readFileSync(path, 'utf8'), {
          loader: name.endsWith('x') ? 'tsx' : 'ts',
          format: 'esm',
          jsx: 'automatic',
        });
        writeFileSync(target, code);
      }
    }
  };
  walk(join(root, 'src'));
  const args = [
    join(here, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
    'src',
    '--config',
    join(here, '.dependency-cruiser.cjs'),
    ...extra,
  ];
  const r = spawnSync(process.execPath, args, { cwd: out, stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
