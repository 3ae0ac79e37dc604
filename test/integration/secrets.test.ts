/**
 * The credential check before a sandbox starts, on real engines: without a terminal a workspace
 * with untriaged findings is refused (naming the files, never the values); --no-credential-check,
 * `corral scan --allow` and `corral scan --mask` let it start; a masked file is empty and read-only
 * in the sandbox while the host file is untouched; at a terminal corral asks. The fakes are made at
 * test time, and every output of every run is searched for them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const ALNUM = 'ABCDEFGHIJKLMNPQRSTUVWYZabcdefghijklmnpqrstuvwyz0123456789';
const rand = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
const fakeToken = () => `${'gh'}${'p_'}${rand(33)}Aa1`;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run a shell command line under `script`, which gives it a pseudo-terminal; its output comes on stdout. */
function inTerminal(cmd: string, input: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Answer once the question is there: typed-ahead input would sit in the terminal before corral reads.
  const answer = setInterval(() => {
    if (!/a\[b\]ort\? $/.test(stdout)) return;
    clearInterval(answer);
    child.stdin.write(input);
  }, 50);
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(answer);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

for (const kind of TEST_ENGINES) {
  describe(`credential check before start on ${kind}`, () => {
    let ws: string;
    let outside: string;
    let env: NodeJS.ProcessEnv;
    const secrets = [rand(40), fakeToken()];
    const envFile = `API_KEY=${secrets[0]}\n`;
    const outputs: string[] = [];
    const run = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
      const r = await corral(args, { cwd: ws, env: { ...env, ...extra } });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const shell = (cmd: string, ...flags: string[]) =>
      run(['shell', 'claude', ...flags, '--', 'sh', '-c', cmd]);

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      outside = await realpath(await mkdtemp(join(tmpdir(), 'corral-secrets-home-')));
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-secrets-ws-')));
      await writeFile(join(outside, 'config.yaml'), 'network: none\n');
      await writeFile(join(ws, '.env'), envFile);
      await mkdir(join(ws, 'notes'));
      await writeFile(join(ws, 'notes', 'token.txt'), `token: ${secrets[1]}\n`);
      await writeFile(join(ws, 'README.md'), '# a project\n');
      // Older than the scan cache's "racy" window, so the first scan's entries are reused at once.
      const past = new Date(Date.now() - 60_000);
      for (const f of ['.env', 'notes/token.txt', 'README.md']) await utimes(join(ws, f), past, past);
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(outside, 'config.yaml'),
        CORRAL_DATA_DIR: join(outside, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      await corral(['stop', 'claude', '-f'], { cwd: ws, env });
      // Last: nothing corral printed in any run of this file holds a planted value, or 12 chars of one.
      const all = outputs.join('\n');
      for (const s of secrets)
        for (let i = 0; i + 12 <= s.length; i += 4) expect(all).not.toContain(s.slice(i, i + 12));
      await rm(ws, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    });

    it('without a terminal refuses to start, naming the files but no value', async () => {
      const r = await shell('echo started');
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('started');
      expect(r.stderr).toMatch(/Not starting: 2 possible credentials in 2 files/);
      expect(r.stderr).toMatch(/\.env:1 +env-secret/);
      expect(r.stderr).toMatch(/notes\/token\.txt:1 +github-token/);
      expect(r.stderr).toContain('corral scan --allow <path>');
      expect(r.stderr).toContain('corral scan --mask <path>');
      expect(r.stderr).toContain('--no-credential-check');
    });

    it('starts with --no-credential-check, or with the check turned off in the user config', async () => {
      expect((await shell('echo started', '--no-credential-check')).stdout).toContain('started');
      expect((await shell('echo started')).code).toBe(1);
      const off = await run(['shell', 'claude', '--', 'true'], { CORRAL_CREDENTIAL_CHECK: '0' });
      expect(off.code).toBe(0);
    });

    it('an untrusted project cannot turn the check off', async () => {
      await writeFile(join(ws, '.corral.yaml'), 'credential_check: false\n');
      try {
        const r = await shell('true');
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/ignoring from untrusted .*credential_check \(false\)/);
      } finally {
        await rm(join(ws, '.corral.yaml'));
      }
    });

    it('after --mask and --allow it starts: the masked file is empty and read-only inside, untouched outside', async () => {
      expect((await run(['scan', '--mask', '.env'])).code).toBe(1);
      expect((await run(['scan', '--allow', 'notes/token.txt'])).code).toBe(0);
      const r = await shell('wc -c < .env; wc -c < notes/token.txt; echo x > .env || echo refused');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split(/\s+/);
      expect(lines[0]).toBe('0');
      expect(Number(lines[1])).toBeGreaterThan(40);
      expect(r.stdout).toContain('refused');
      expect(await readFile(join(ws, '.env'), 'utf8')).toBe(envFile);
    });

    it('a repeat start reads no file again; an edited allowed file is refused again', async () => {
      const r = await run(['shell', 'claude', '--', 'true'], { CORRAL_TRACE: '1' });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/scan \(0\/3 read\)/);
      secrets.push(fakeToken());
      await writeFile(join(ws, 'notes', 'token.txt'), `token: ${secrets.at(-1)}\n`);
      const again = await shell('true');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/1 possible credential in 1 file.*\n.*notes\/token\.txt:1/);
    });

    it('at a terminal asks, and the answer is remembered', async () => {
      // `script` gives corral a pseudo-terminal; the answer "m" masks the edited file.
      const cmd = [process.execPath, BIN, 'shell', 'claude', '--', 'sh', '-c', 'wc -c < notes/token.txt']
        .map(q)
        .join(' ');
      const r = await inTerminal(cmd, 'm\n', ws, env);
      outputs.push(r.stdout, r.stderr);
      expect(r.stdout).toMatch(/notes\/token\.txt: \[m\]ask, \[a\]llow or a\[b\]ort\?/);
      expect(r.stdout).toMatch(/masked notes\/token\.txt/);
      expect(r.stdout).toMatch(/^0\r?$/m);
      expect((await shell('wc -c < notes/token.txt')).stdout.trim()).toBe('0');
    });

    it('joining a running sandbox does not scan again', async () => {
      expect((await run(['shell', 'claude', '-d'])).code).toBe(0);
      secrets.push(fakeToken());
      await writeFile(join(ws, 'late.txt'), `${secrets.at(-1)}\n`);
      const joined = await shell('echo joined');
      expect(joined.code).toBe(0);
      expect(joined.stdout).toContain('joined');
      expect((await shell('true', '--no-join')).code).toBe(1);
    });
  });
}
