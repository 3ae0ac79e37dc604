/** The pure parts of how host commands run: argv parsing, refused arguments, the environment, bwrap's line. */
import { mkdtemp, realpath, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execArgv, parseArgv } from '../../src/bridge/argv.js';
import { currentBinding } from '../../src/bridge/bindings.js';
import { confinedArgv } from '../../src/bridge/confine.js';
import { hostCommandEnv } from '../../src/bridge/host-env.js';
import { riskyArgument } from '../../src/bridge/risky-args.js';

describe('argv', () => {
  it('reads quotes and escapes, and marks what sh would expand', () => {
    expect(parseArgv(`npm test -- 'a b' "c d" e\\ f`)).toEqual({
      argv: ['npm', 'test', '--', 'a b', 'c d', 'e f'],
      expands: false,
    });
    expect(parseArgv('echo $HOME')?.expands).toBe(true);
    expect(parseArgv('ls *.ts')?.expands).toBe(true);
    expect(parseArgv('cat ~/x')?.expands).toBe(true);
    expect(parseArgv("echo '$HOME *'")?.expands).toBe(false);
  });
  it.each(['a; b', 'a | b', 'a > f', 'a $(id)', 'a `id`', 'A=1 a', 'a # c', 'a\nb', "a 'open"])(
    'needs a shell: %j',
    (cmd) => expect(parseArgv(cmd)).toBeUndefined(),
  );
  it('runs a prefix match literally and a typed command through sh only when needed', () => {
    expect(execArgv('echo $X', true)).toEqual(['echo', '$X']);
    expect(execArgv('echo $X')).toEqual(['/bin/sh', '-c', 'echo $X']);
    expect(execArgv('npm test')).toEqual(['npm', 'test']);
  });
});

describe('arguments after an allowed prefix', () => {
  const ws = '/ws';
  it.each([
    ['npm', ['--script-shell=/x']],
    ['npm', ['--', '-c', 'cfg']],
    ['npm', ['--node-options', '--require=/x']],
    ['make', ['-C', '/etc']],
    ['make', ['-f', '/tmp/evil.mk']],
    ['make', ['-fevil.mk']],
    ['cargo', ['--config', 'x']],
    ['pytest', ['-p', 'plugin']],
  ])('%s %j is refused', (tool, args) => expect(riskyArgument(tool, args, ws, ['Makefile'])).toBeDefined());
  it.each([
    ['npm', ['--', '--watch=false', 'src/a.test.ts']],
    ['make', ['-j4', 'build']],
    ['make', ['-f', 'Makefile']],
    ['cargo', ['--release']],
  ])('%s %j may run', (tool, args) => expect(riskyArgument(tool, args, ws, ['Makefile'])).toBeUndefined());
});

describe('host command environment', () => {
  it('keeps the allowlist and listed names, never CORRAL_* or an agent key', () => {
    const env = hostCommandEnv(['EXTRA', 'OPENAI_API_KEY', 'CORRAL_X'], {
      PATH: '/bin',
      HOME: '/h',
      LC_ALL: 'C',
      EXTRA: 'e',
      SECRET: 's',
      OPENAI_API_KEY: 'k',
      ANTHROPIC_API_KEY: 'k',
      CORRAL_X: 'c',
    });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', LC_ALL: 'C', EXTRA: 'e' });
  });
});

describe('bindings', () => {
  it('binds package.json scripts only, and refuses a linked file', async () => {
    const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-bind-')));
    await writeFile(join(ws, 'package.json'), '{"version":"1","scripts":{"test":"a"}}');
    const a = await currentBinding(ws, 'npm test');
    await writeFile(join(ws, 'package.json'), '{"version":"2","scripts":{"test":"a"}}');
    expect((await currentBinding(ws, 'npm test'))?.hash).toBe(a?.hash);
    await writeFile(join(ws, 'package.json'), '{"version":"2","scripts":{"test":"b"}}');
    expect((await currentBinding(ws, 'npm test'))?.hash).not.toBe(a?.hash);
    expect(await currentBinding(ws, 'ls -l')).toBeUndefined();
    await symlink('/etc/hostname', join(ws, 'Makefile'));
    expect((await currentBinding(ws, 'make'))?.problem).toMatch(/symbolic link/);
  });
});

describe('confinement', () => {
  it('hides the home, drops capabilities, and binds the workspace after the tmpfs over its parent', () => {
    const line = confinedArgv(['npm', 'test'], { workspace: '/tmp/ws', network: false, home: '/root' });
    const at = (...w: string[]) => line.findIndex((_, i) => w.every((x, j) => line[i + j] === x));
    expect(at('--tmpfs', '/root')).toBeGreaterThan(0);
    expect(at('--cap-drop', 'ALL')).toBeGreaterThan(0);
    expect(line).toContain('--unshare-net');
    expect(at('--bind', '/tmp/ws', '/tmp/ws')).toBeGreaterThan(at('--tmpfs', '/tmp'));
    expect(line.slice(-3)).toEqual(['--', 'npm', 'test']);
  });
});
