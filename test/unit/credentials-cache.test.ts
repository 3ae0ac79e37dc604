/**
 * The incremental scan behind `corral run`: a repeat scan of an unchanged workspace reads nothing,
 * a changed or new file is read again, a deleted one drops out. Fake tokens are made at test time.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Reader, readRegular } from '../../src/credentials/scan.js';
import {
  emptyCache,
  type ScanCache,
  scanCachePath,
  scanIncremental,
  scanWithCache,
} from '../../src/credentials/scan-cache.js';

const ALNUM = 'ABCDEFGHIJKLMNPQRSTUVWYZabcdefghijklmnpqrstuvwyz0123456789';
const rand = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
/** A GitHub-token-shaped fake, assembled here so the repository holds no token-shaped string. */
const fakeToken = () => `${'gh'}${'p_'}${rand(33)}Aa1`;

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'corral-cache-'));
  dirs.push(d);
  return d;
}

/** Written with an mtime a minute ago, so the entry is not "racy" (see scan-cache.ts). */
async function put(root: string, rel: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
  const past = new Date(Date.now() - 60_000);
  await utimes(join(root, rel), past, past);
}

/** The default reader, counting which files it read. */
function counting(): { read: Reader; paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    read: (abs, max) => {
      paths.push(abs);
      return readRegular(abs, max);
    },
  };
}

const where = (fs: { path: string; rule: string }[]) => fs.map((f) => `${f.path} ${f.rule}`).sort();

describe('incremental scan', () => {
  let root: string;
  let secrets: string[];
  beforeEach(async () => {
    root = await tempDir();
    secrets = [fakeToken(), fakeToken()];
    await put(root, 'a.txt', `token ${secrets[0]}\n`);
    await put(root, 'src/b.txt', 'nothing here\n');
    for (let i = 0; i < 50; i++) await put(root, `many/f${i}.txt`, `line ${i}\n`);
  });

  it('reads everything once, then nothing while the workspace is unchanged', async () => {
    const first = counting();
    const r1 = await scanIncremental(root, undefined, { read: first.read });
    expect(r1).toMatchObject({ complete: true, filesScanned: 52, filesRead: 52, changed: true });
    expect(where(r1.findings)).toEqual(['a.txt github-token']);
    const again = counting();
    const r2 = await scanIncremental(root, r1.cache, { read: again.read });
    expect(again.paths).toEqual([]);
    expect(r2).toMatchObject({ complete: true, filesScanned: 52, filesRead: 0, changed: false });
    expect(r2.findings).toEqual(r1.findings);
  });

  it('reads again only a changed or new file, and drops a deleted one', async () => {
    const r1 = await scanIncremental(root, undefined);
    await put(root, 'src/b.txt', `now with ${secrets[1]}\n`);
    await put(root, 'new.txt', 'new\n');
    const c = counting();
    const r2 = await scanIncremental(root, r1.cache, { read: c.read });
    expect(c.paths.map((p) => p.slice(root.length + 1)).sort()).toEqual(['new.txt', 'src/b.txt']);
    expect(where(r2.findings)).toEqual(['a.txt github-token', 'src/b.txt github-token']);

    await unlink(join(root, 'a.txt'));
    const c3 = counting();
    const r3 = await scanIncremental(root, r2.cache, { read: c3.read });
    expect(c3.paths).toEqual([]);
    expect(r3.changed).toBe(true);
    expect(where(r3.findings)).toEqual(['src/b.txt github-token']);
    expect(Object.keys(r3.cache.files)).not.toContain('a.txt');
  });

  it('notices a file replaced by one of the same size and mtime (a new inode)', async () => {
    const r1 = await scanIncremental(root, undefined);
    const before = await stat(join(root, 'src/b.txt'));
    await writeFile(join(root, 'src/b.tmp'), 'nothing HERE\n');
    await utimes(join(root, 'src/b.tmp'), before.atime, before.mtime);
    await rename(join(root, 'src/b.tmp'), join(root, 'src/b.txt'));
    const c = counting();
    await scanIncremental(root, r1.cache, { read: c.read });
    expect(c.paths).toEqual([join(root, 'src/b.txt')]);
  });

  it('reads a just-written file again next time (it may change within the same tick)', async () => {
    await writeFile(join(root, 'fresh.txt'), 'just now\n');
    const r1 = await scanIncremental(root, undefined);
    expect(r1.cache.files['fresh.txt']?.racy).toBe(true);
    const c = counting();
    await scanIncremental(root, r1.cache, { read: c.read });
    expect(c.paths).toEqual([join(root, 'fresh.txt')]);
  });

  it('starts over when the cache was made by other rules or for another folder', async () => {
    const r1 = await scanIncremental(root, undefined);
    const stale: ScanCache = { ...r1.cache, stamp: 'older' };
    expect((await scanIncremental(root, stale)).filesRead).toBe(52);
    const other: ScanCache = { ...r1.cache, workspace: '/elsewhere' };
    expect((await scanIncremental(root, other)).filesRead).toBe(52);
    expect((await scanIncremental(root, emptyCache(root))).filesRead).toBe(52);
  });

  it('re-reads hand-edited entries instead of failing', async () => {
    const r1 = await scanIncremental(root, undefined);
    const broken = { ...r1.cache, files: { ...r1.cache.files, 'a.txt': { size: 'x' } } } as never;
    const r2 = await scanIncremental(root, broken);
    expect(r2.filesRead).toBe(1);
    expect(where(r2.findings)).toEqual(['a.txt github-token']);
  });

  it('skips the folders it is told to', async () => {
    await put(root, '.data/gateway/key.txt', `x ${fakeToken()}\n`);
    const r = await scanIncremental(root, undefined, { skip: ['.data', 'many'] });
    expect(r.filesScanned).toBe(2);
    expect(where(r.findings)).toEqual(['a.txt github-token']);
  });

  it('out of budget: keeps entries it did not reach and still reports their unchanged findings', async () => {
    const r1 = await scanIncremental(root, undefined);
    const r2 = await scanIncremental(root, r1.cache, { budgetMs: 0 });
    expect(r2).toMatchObject({ complete: false, stoppedBy: 'budget' });
    expect(where(r2.findings)).toEqual(['a.txt github-token']);
    expect(Object.keys(r2.cache.files).sort()).toEqual(Object.keys(r1.cache.files).sort());
    // A file with findings that changed since is not reported from the cache, and is read next time.
    await put(root, 'a.txt', 'clean now, and longer than before\n');
    const r3 = await scanIncremental(root, r1.cache, { budgetMs: 0 });
    expect(r3.findings).toEqual([]);
    expect(r3.cache.files['a.txt']).toBeUndefined();
  });
});

describe('scanWithCache', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('keeps the cache per workspace in the data folder, 0600, without secret values', async () => {
    const data = await tempDir();
    vi.stubEnv('CORRAL_DATA_DIR', data);
    const root = await tempDir();
    const secret = fakeToken();
    await put(root, '.env', `API_TOKEN=${secret}\n`);
    const ws = { path: root, id: 'abcdef012345' };
    const r1 = await scanWithCache(ws);
    expect(r1.filesRead).toBe(1);
    const file = scanCachePath(ws.id);
    expect(file).toBe(join(data, 'scan-cache', 'abcdef012345.json'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('.env');
    expect(text.includes(secret.slice(4, 20))).toBe(false);
    const r2 = await scanWithCache(ws);
    expect(r2).toMatchObject({ filesRead: 0, changed: false });
    expect(r2.findings.map((f) => f.path)).toEqual(['.env']);
  });
});
