/**
 * The layering lint (scripts/depcruise.mjs + .dependency-cruiser.cjs) fires on each kind of
 * violation, and the core keeps its hands off the process's streams and exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MCP_FORMATS } from '../../src/agents/mcp-formats.js';
import { OAUTH_FORMATS } from '../../src/agents/oauth-formats.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'corral-layering-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function cruise(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['scripts/depcruise.mjs', root, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const ok = {
  'src/errors.ts': 'export class CorralError extends Error {}\n',
  'src/engine/index.ts': "import { CorralError } from '../errors.js';\nexport const e = CorralError;\n",
  'src/sandbox/run.ts': "import { e } from '../engine/index.js';\nexport const run = () => e;\n",
  'src/core/index.ts': "export { run } from '../sandbox/run.js';\n",
  'src/cli/main.ts':
    "import { run } from '../core/index.js';\nimport type { e } from '../engine/index.js';\nexport const main = (x?: typeof e) => [run, x];\n",
};

// Each run transpiles and cruises a tree: seconds on this machine.
describe('layering lint', { timeout: 60_000 }, () => {
  it('passes a tree that keeps the rules (type-only imports from the CLI are fine)', () => {
    const r = cruise(tree(ok));
    expect(r.out).toContain('no dependency violations');
    expect(r.status).toBe(0);
  });

  it('fails on a folder cycle, also through a dynamic import()', () => {
    const r = cruise(
      tree({
        ...ok,
        'src/gateway/a.ts': "export const a = () => import('../auth/b.js');\n",
        'src/auth/b.ts': "import { a } from '../gateway/a.js';\nexport const b = a;\n",
      }),
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/no-folder-cycles: src\/(auth|gateway)/);
  });

  it('fails when engine, config or agents import something above them', () => {
    const r = cruise(
      tree({
        ...ok,
        'src/config/load.ts': "import { run } from '../sandbox/run.js';\nexport const l = run;\n",
      }),
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('base-imports-nothing-above: src/config/load.js → src/sandbox/run.js');
  });

  it('fails when the CLI (or a daemon) reaches past the core', () => {
    const r = cruise(
      tree({
        ...ok,
        'src/cli/run.ts': "import { run } from '../sandbox/run.js';\nexport const r = run;\n",
        'src/daemon/api.ts': "export const r = () => import('../engine/index.js');\n",
      }),
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('edges-through-core: src/cli/run.js → src/sandbox/run.js');
    expect(r.out).toContain('edges-through-core: src/daemon/api.js → src/engine/index.js');
  });

  it('passes on this checkout, with no tolerated violations', () => {
    const r = cruise(process.cwd());
    expect(r.out).toContain('no dependency violations');
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('the core', () => {
  it('never touches the process streams, exit or env', () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          // Comments may name them; code may not.
          const code = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
          for (const m of code.matchAll(/process\s*\.\s*(stdout|stderr|stdin|exit|exitCode|env|argv|cwd)\b/g))
            found.push(`${path}: process.${m[1]}`);
        }
      }
    };
    walk('src/core');
    expect(found).toEqual([]);
  });
});

describe('agent knowledge', () => {
  it('stays in src/agents: no MCP or login format is named in bridge/ or auth/', () => {
    const names = [...Object.keys(MCP_FORMATS), ...Object.keys(OAUTH_FORMATS)];
    const found: string[] = [];
    for (const dir of ['src/bridge', 'src/auth']) {
      for (const name of readdirSync(dir)) {
        const code = readFileSync(join(dir, name), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        for (const n of names) if (code.includes(`'${n}'`)) found.push(`${dir}/${name}: '${n}'`);
      }
    }
    expect(found).toEqual([]);
  });
});
