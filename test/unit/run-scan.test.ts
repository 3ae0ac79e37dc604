/**
 * The credential check on the start path: without a terminal it refuses while findings are
 * untriaged (listing them by shape, never by value); at a terminal it asks; masks are remembered.
 * Fake secrets are made at test time.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { Context } from '../../src/cli/context.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { restrictUntrusted } from '../../src/config/trust.js';
import { askTriage } from '../../src/core/scan-prompt.js';
import { checkCredentials } from '../../src/core/start/scan.js';
import type { Finding } from '../../src/credentials/scan.js';
import { allowedFor, maskedFor } from '../../src/credentials/triage.js';
import { CorralError } from '../../src/errors.js';
import { planSandbox } from '../../src/sandbox/plan.js';
import { toContainerSpec } from '../../src/sandbox/spec.js';
import type { Workspace } from '../../src/workspace/identity.js';
import { planUser } from '../../src/workspace/userns.js';

const ALNUM = 'ABCDEFGHIJKLMNPQRSTUVWYZabcdefghijklmnpqrstuvwyz0123456789';
const rand = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'corral-runscan-'));
  dirs.push(d);
  return d;
}
async function put(root: string, rel: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

function io(tty: boolean, answers?: string) {
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  if (answers !== undefined) stdin.end(answers);
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return { io: { stdin, stdout: new PassThrough(), stderr }, err: () => err };
}

const config = ConfigSchema.parse({});

describe('checkCredentials', () => {
  let ws: Workspace;
  let secrets: string[];
  let data: string;
  beforeEach(async () => {
    data = await tempDir();
    vi.stubEnv('CORRAL_DATA_DIR', data);
    ws = { path: await tempDir(), id: rand(12).toLowerCase() };
    secrets = [rand(40), `${'gh'}${'p_'}${rand(33)}Aa1`];
    await put(ws.path, '.env', `API_KEY=${secrets[0]}\n`);
    await put(ws.path, 'notes/token.txt', `token: ${secrets[1]}\n`);
    await put(ws.path, 'README.md', '# hello\n');
  });
  afterEach(() => vi.unstubAllEnvs());

  const check = (ctx: Context, over: Partial<Parameters<typeof checkCredentials>[3]> = {}, cfg = config) =>
    checkCredentials(ctx, ws, cfg, { maskDirs: [], ...over });

  it('without a terminal refuses, listing the files by shape and naming the ways out', async () => {
    const t = io(false);
    const err = await check(new Context({}, { CORRAL_DATA_DIR: data }, t.io)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    const e = err as CorralError;
    expect(e.code).toBe('SECRETS_FOUND');
    expect(e.message).toMatch(/Not starting: 2 possible credentials in 2 files/);
    expect(e.message).toMatch(/\.env:1 +env-secret .*API_KEY=… \(40 chars\)/);
    expect(e.message).toMatch(/notes\/token\.txt:1 +github-token/);
    expect(e.hint).toContain('corral scan --allow <path>');
    expect(e.hint).toContain('corral scan --mask <path>');
    expect(e.hint).toContain('--no-credential-check');
    for (const s of secrets) {
      expect(e.message.includes(s.slice(-12))).toBe(false);
      expect(e.hint!.includes(s.slice(-12))).toBe(false);
      expect(t.err().includes(s.slice(-12))).toBe(false);
    }
  });

  it('is skipped by --no-credential-check, credential_check: false and --dry-run', async () => {
    const ctx = new Context({}, { CORRAL_DATA_DIR: data }, io(false).io);
    expect(await check(ctx, { credentialCheck: false })).toEqual([]);
    expect(await check(ctx, { dryRun: true })).toEqual([]);
    expect(await check(ctx, {}, ConfigSchema.parse({ credential_check: false }))).toEqual([]);
  });

  it('at a terminal asks; masks and allowances are remembered and masked files returned', async () => {
    const t = io(true, 'e\nm\nz\na\n');
    const masked = await check(new Context({}, { CORRAL_DATA_DIR: data }, t.io));
    expect(masked).toEqual(['.env']);
    expect(t.err()).toContain('[e]ach file');
    expect(t.err()).toMatch(/\.env \(1 finding\): \[m\]ask, \[a\]llow or a\[b\]ort\?/);
    for (const s of secrets) expect(t.err().includes(s.slice(-12))).toBe(false);
    expect((await maskedFor(ws.path)).map((e) => e.path)).toEqual(['.env']);
    expect((await allowedFor(ws.path)).map((e) => e.path)).toEqual(['notes/token.txt']);
    // Next start: nothing to ask, the mask still applies (also with the check off).
    const quiet = new Context({}, { CORRAL_DATA_DIR: data }, io(false).io);
    expect(await check(quiet)).toEqual(['.env']);
    expect(await check(quiet, { credentialCheck: false })).toEqual(['.env']);
    // An edited masked file stays masked; an edited allowed file is asked about again.
    await put(ws.path, '.env', `API_KEY=${rand(40)}\n`);
    await put(ws.path, 'notes/token.txt', `token: ${'gh'}${'p_'}${rand(33)}Bb2\n`);
    await expect(check(quiet)).rejects.toThrow(/1 possible credential in 1 file .*\n.*notes\/token\.txt/);
  });

  it('does not mask a path that is now a symlink or gone', async () => {
    const t = io(true, 'm\n');
    expect(await check(new Context({}, { CORRAL_DATA_DIR: data }, t.io))).toEqual([
      '.env',
      'notes/token.txt',
    ]);
    await rm(join(ws.path, '.env'));
    await symlink('/etc/hostname', join(ws.path, '.env'));
    await rm(join(ws.path, 'notes/token.txt'));
    expect(await check(new Context({}, { CORRAL_DATA_DIR: data }, io(false).io))).toEqual([]);
  });

  it('aborts on b, on end of input, and says nothing was started', async () => {
    for (const answers of ['b\n', '']) {
      const t = io(true, answers);
      await expect(check(new Context({}, { CORRAL_DATA_DIR: data }, t.io))).rejects.toThrow(
        /Not started: you aborted/,
      );
    }
    expect(await maskedFor(ws.path)).toEqual([]);
  });
});

describe('askTriage', () => {
  const f = (path: string, line?: number): Finding => ({
    path,
    ...(line ? { line } : {}),
    rule: 'env-secret',
    description: 'Secret-looking value',
    fingerprint: 'f'.repeat(64),
    preview: 'X=… (9 chars)',
  });
  const ask = async (answers: string, findings: Finding[]) => {
    const input = new PassThrough();
    input.end(answers);
    let out = '';
    const output = new PassThrough();
    output.on('data', (c: Buffer) => {
      out += c.toString();
    });
    return { result: await askTriage(findings, { input, output }), out: () => out };
  };

  it('decides all files at once, asks again on an unknown answer, and one file gets the short question', async () => {
    const all = await ask('?\nM\n', [f('a', 1), f('a', 2), f('b')]);
    expect([...all.result!]).toEqual([
      ['a', 'mask'],
      ['b', 'mask'],
    ]);
    expect(all.out().match(/All 2 files/g)).toHaveLength(2);
    const one = await ask('allow\n', [f('.env', 3)]);
    expect([...one.result!]).toEqual([['.env', 'allow']]);
    expect(one.out()).toContain('.env: [m]ask, [a]llow or a[b]ort? ');
  });

  it('never lets control characters from a file name reach the terminal', async () => {
    const r = await ask('b\n', [f('evil\u001b]0;pwned\u0007.env')]);
    expect(r.result).toBeUndefined();
    expect(r.out()).not.toMatch(/\u001b|\u0007/);
  });
});

describe('masked files in the sandbox spec', () => {
  const req = (maskedFiles: string[]) => ({
    agent: claude,
    workspace: { id: 'abcdef012345', path: '/home/me/p' },
    image: 'img',
    engine: 'podman' as const,
    user: planUser({ kind: 'podman', rootless: false }, { uid: 0, gid: 0 }),
    session: 'abcdef123456',
    mode: 'shell' as const,
    args: [],
    env: [],
    envFiles: [],
    detach: false,
    stdinIsTTY: false,
    host: { HOME: '/root' },
    maskedFiles,
  });

  it('shadows each with the empty file, read-only, over /workspace/<path>', async () => {
    const spec = toContainerSpec(await planSandbox(req(['.env', 'keys/id_rsa']), config));
    const masks = spec.mounts.filter((m) => m.target.startsWith('/workspace/'));
    expect(masks.map((m) => [m.target, m.readOnly, m.type])).toEqual([
      ['/workspace/.env', true, 'bind'],
      ['/workspace/keys/id_rsa', true, 'bind'],
    ]);
    expect(masks[0]!.source).toMatch(/empty-file$/);
  });

  it('refuses paths that leave the workspace', async () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', ''])
      await expect(planSandbox(req([bad]), config)).rejects.toBeInstanceOf(CorralError);
  });
});

describe('an untrusted project', () => {
  it('cannot turn the credential check off', () => {
    expect(restrictUntrusted({ credential_check: false })).toEqual({
      safe: {},
      skipped: ['credential_check (false)'],
    });
    expect(restrictUntrusted({ credential_check: true })).toEqual({
      safe: { credential_check: true },
      skipped: [],
    });
  });
});
