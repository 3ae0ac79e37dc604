/**
 * Faults survived by corral's own state: its data folder on a full disk (a small tmpfs) gives one
 * clear error and corrupts nothing (the trust list, the login store, the tasks database); and a
 * login store written during a refresh survives the refreshing process being SIGKILLed at any
 * moment (the real broker against a scripted OAuth provider, killed at random points, 30 times).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLogin, saveLogin } from '../../src/auth/store.js';
import { type TaskRecord, TaskStore } from '../../src/tasks/store.js';
import { corral, ROOT } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { fakeToken, type OAuthProvider, startOAuthProvider } from '../helpers/oauth-server.js';

const run = promisify(execFile);

const login = (access: string, refresh: string) => ({
  format: 'claude' as const,
  accessToken: access,
  refreshToken: refresh,
  expiresAt: Date.now() + 3_600_000,
  extra: { scopes: ['user:inference'] },
});

/** Files left by an interrupted write (temporary files), anywhere under `dir`. */
async function temporaries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.name.endsWith('.tmp')) out.push(join(e.parentPath, e.name));
  return out;
}

for (const kind of TEST_ENGINES) {
  describe(`a full disk under corral's data folder on ${kind}`, () => {
    let dir: string;
    let data: string;
    let ws: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-diskfull-')));
      data = join(dir, 'data');
      ws = join(dir, 'ws');
      await mkdir(data);
      await mkdir(ws);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', data]);
      await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: data,
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    }, 600_000);

    afterAll(async () => {
      if (!dir) return;
      await rm(join(data, 'filler'), { force: true });
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      await run('umount', ['-l', data]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    });

    it('fails with one clear error, and the trust list, login store and tasks database stay intact', async () => {
      // State worth keeping: a trusted project, a stored login, a task.
      await writeFile(join(ws, '.corral.yaml'), 'egress:\n  allow: [one.example]\n');
      const trusted = await corral(['trust'], { cwd: ws, env });
      expect(trusted.code, trusted.stderr).toBe(0);
      const authDir = join(data, 'auth', 'claude', 'default');
      const stored = login(fakeToken('oat'), fakeToken('ort'));
      const prev = process.env.CORRAL_DATA_DIR;
      process.env.CORRAL_DATA_DIR = data;
      try {
        await saveLogin(authDir, stored);
      } finally {
        process.env.CORRAL_DATA_DIR = prev;
      }
      const tasks = TaskStore.open({ CORRAL_DATA_DIR: data });
      const task: TaskRecord = {
        id: 'diskfull1',
        agent: 'claude',
        prompt: 'keep me',
        workspace: ws,
        source: ws,
        worktree: null,
        branch: null,
        state: 'succeeded',
        exitCode: 0,
        created: new Date().toISOString(),
        started: null,
        ended: null,
        diffStat: null,
        sessionId: null,
        profile: 'default',
        container: '',
        pid: null,
        logFile: '',
        error: null,
        options: '{}',
      };
      tasks.insert(task);
      const trustBefore = await readFile(join(data, 'trust.json'), 'utf8');
      const loginBefore = await readFile(join(authDir, 'oauth.json'), 'utf8');

      // Fill the disk to the last byte.
      await run('sh', ['-c', `dd if=/dev/zero of=${join(data, 'filler')} bs=16k 2>/dev/null; true`]);

      // A write to each: the trust list, a run (its gateway folder, its state), the login store.
      await writeFile(join(ws, '.corral.yaml'), 'egress:\n  allow: [two.example]\n');
      const retrust = await corral(['trust'], { cwd: ws, env });
      const started = await corral(['shell', 'claude', '--no-join', '--', 'true'], { cwd: ws, env });
      await writeFile(
        join(dir, 'creds.json'),
        JSON.stringify({
          claudeAiOauth: {
            accessToken: fakeToken('oat'),
            refreshToken: fakeToken('ort'),
            expiresAt: Date.now() + 3_600_000,
          },
        }),
      );
      const imported = await corral(['auth', 'import', 'claude', '--from', join(dir, 'creds.json')], {
        cwd: ws,
        env,
      });
      let taskError = '';
      try {
        tasks.insert({ ...task, id: 'diskfull2', prompt: 'x'.repeat(64 * 1024) } as Parameters<
          TaskStore['insert']
        >[0]);
      } catch (e) {
        taskError = (e as Error).message;
      }
      for (const r of [retrust, started, imported]) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^corral: no space left on the disk holding .*\/\S+ \(ENOSPC\)/m);
        expect(r.stderr).toMatch(/^hint: free some space there/m);
        expect(r.stderr).not.toMatch(/\n\s+at |unexpected error/);
      }
      expect(taskError).toMatch(/full/i);

      // Nothing corrupted, no half-written files left to hold the space.
      expect(await readFile(join(data, 'trust.json'), 'utf8')).toBe(trustBefore);
      expect(await readFile(join(authDir, 'oauth.json'), 'utf8')).toBe(loginBefore);
      expect(await temporaries(data)).toEqual([]);
      await rm(join(data, 'filler'));
      const check = tasks.get('diskfull1');
      expect(check?.prompt).toBe('keep me');
      tasks.close();
      const reopened = TaskStore.open({ CORRAL_DATA_DIR: data });
      expect(reopened.get('diskfull1')?.prompt).toBe('keep me');
      reopened.close();
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(data, 'tasks.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();

      // With space again, the same commands work.
      const again = await corral(['shell', 'claude', '--no-join', '--', 'echo', 'space-again'], {
        cwd: ws,
        env,
      });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout.trim()).toBe('space-again');
    }, 240_000);
  });
}

describe('the login store when the refreshing process is killed', () => {
  let provider: OAuthProvider;
  let dir: string;
  let driver: string;

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-killrefresh-')));
    provider = await startOAuthProvider({ lifetimeSeconds: 3600, host: '127.0.0.1' });
    // The real broker, refreshing as fast as it can (every login is due), in its own process.
    driver = join(dir, 'refresh-loop.mjs');
    await build({
      stdin: {
        contents: `
          import { refreshIfDue } from './src/auth/broker.ts';
          const [dir, tokenUrl] = process.argv.slice(2);
          const t = { label: 'claude/kill', dir, tokenUrl, clientId: 'test', scopes: ['user:inference'] };
          for (;;) {
            const r = await refreshIfDue(t, { aheadMs: 10 * 3_600_000 }, { log: () => {} });
            if (r !== 'refreshed') { console.log(r); process.exit(3); }
            process.stdout.write('.');
          }`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: driver,
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
  }, 120_000);

  afterAll(async () => {
    await provider?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('always holds a whole login the provider issued, whenever the refresh is killed', async () => {
    const authDir = join(dir, 'auth');
    const cur = provider.current();
    await saveLogin(authDir, login(cur.access, cur.refresh));
    const tokenUrl = `http://127.0.0.1:${provider.tokenPort}/v1/oauth/token`;
    let refreshes = 0;
    let lost = 0;
    for (let round = 0; round < 30; round++) {
      // A kill between the provider's answer and the write loses that answer, and with it the new
      // refresh token (the old one is spent): the user would log in again. Not a torn store, which
      // is what this checks; start the next round from a fresh login then.
      if ((await readLogin(authDir))?.refreshToken !== provider.current().refresh) {
        lost++;
        const c = provider.current();
        await saveLogin(authDir, login(c.access, c.refresh));
      }
      const child = spawn(process.execPath, [driver, authDir, tokenUrl], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      // Killed once refreshes are under way, at a random point of one.
      for (const end = Date.now() + 10_000; !out.includes('.') && Date.now() < end; )
        await new Promise((r) => setTimeout(r, 5));
      expect(out, `${out}\n${err}`).toContain('.');
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      refreshes += out.split('.').length - 1;
      // The file is whole JSON and a login whose tokens the provider issued.
      const text = await readFile(join(authDir, 'oauth.json'), 'utf8');
      expect(() => JSON.parse(text), text).not.toThrow();
      const now = await readLogin(authDir);
      expect(now).toBeDefined();
      expect(provider.issued).toContain(now!.accessToken);
      expect(provider.issued).toContain(now!.refreshToken);
      // The killed holder's lock would go stale only after 30 s: the next round need not wait.
      const lockDir = join(authDir, 'oauth.lock');
      await rm(lockDir, { recursive: true, force: true });
    }
    // Whatever a kill left half-way, the next write clears it: no temporary files pile up.
    const last = provider.current();
    await saveLogin(authDir, login(last.access, last.refresh));
    expect(await temporaries(authDir)).toEqual([]);
    console.log(
      `${refreshes} refreshes over 30 kills (${lost} answers lost to a kill); the store was whole after every kill`,
    );
  }, 240_000);
});
