/** Skills: source parsing, hashing, and the start-script lines run in a real shell on a temp home. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashSkill, parseSource } from '../../src/skills/fetch.js';
import { installLines, SANDBOX_SKILLS_DIR } from '../../src/skills/install.js';
import { storeName } from '../../src/skills/lock.js';

describe('skills', () => {
  it('parses git URLs and paths with a ref', () => {
    expect(parseSource('https://example.com/s.git#v1', '/')).toEqual({
      source: 'https://example.com/s.git',
      ref: 'v1',
      kind: 'git',
    });
    expect(parseSource('git@example.com:o/s.git', '/')).toMatchObject({ kind: 'git' });
    expect(() => parseSource('https://example.com/s.git#--upload-pack=x', '/')).toThrow(/not a git ref/);
    expect(() => parseSource('/no/such/folder', '/')).toThrow(/No skill source/);
  });

  it('hashes paths, modes and contents', async () => {
    const d = await mkdtemp(join(tmpdir(), 'corral-skill-hash-'));
    await writeFile(join(d, 'SKILL.md'), 'a');
    const h1 = await hashSkill(d);
    await writeFile(join(d, 'SKILL.md'), 'b');
    expect(await hashSkill(d)).not.toBe(h1);
    await writeFile(join(d, 'SKILL.md'), 'a');
    expect(await hashSkill(d)).toBe(h1);
  });

  it('installs, refreshes and removes only what it installed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'corral-skill-home-'));
    const home = join(root, 'home');
    const store = join(root, 'store');
    const skill = { name: 'one', source: '/x', path: '', agents: ['*'], hash: 'a'.repeat(64) };
    await mkdir(join(store, storeName(skill)), { recursive: true });
    await writeFile(join(store, storeName(skill), 'SKILL.md'), 'v1');
    await mkdir(join(home, '.claude/skills/mine'), { recursive: true });
    const sh = (lines: string[]) =>
      execFileSync('sh', ['-ec', lines.join('\n').replaceAll(SANDBOX_SKILLS_DIR, store)], {
        env: { HOME: home },
      });
    sh(installLines('.claude/skills', [skill]));
    expect(await readFile(join(home, '.claude/skills/one/SKILL.md'), 'utf8')).toBe('v1');
    const next = { ...skill, hash: 'b'.repeat(64) };
    await mkdir(join(store, storeName(next)), { recursive: true });
    await writeFile(join(store, storeName(next), 'SKILL.md'), 'v2');
    sh(installLines('.claude/skills', [next]));
    expect(await readFile(join(home, '.claude/skills/one/SKILL.md'), 'utf8')).toBe('v2');
    sh(installLines('.claude/skills', []));
    expect(existsSync(join(home, '.claude/skills/one'))).toBe(false);
    expect(existsSync(join(home, '.claude/skills/mine'))).toBe(true);
  });
});
