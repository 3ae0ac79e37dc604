/**
 * `corral auth login codex`: the CLI's own login runs in a sandbox (no network but the gateway), and
 * its OAuth callback on 127.0.0.1:1455 is reachable from the host for the duration of the login:
 * a browser's redirect with a forged state reaches Codex's own login server, which refuses it.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const PORT = 1455;
const run = promisify(execFile);

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
  } catch (e) {
    return ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (e as Error).message;
  }
}

for (const kind of TEST_ENGINES) {
  describe(`auth login on ${kind}`, () => {
    let env: NodeJS.ProcessEnv;
    let dir: string;
    const profile = `login${process.pid % 100000}`;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'codex');
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-auth-login-')));
      await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    }, 600_000);

    afterAll(async () => {
      // Never `clean --all`: it deletes every corral volume on the engine, other tests' included.
      await corral(['clean'], { cwd: join(dir, 'data/auth/login-workspace'), env }).catch(() => {});
      await run(kind, ['volume', 'rm', '-f', `corral-codex-${profile}-home`]).catch(() => {});
    });

    it("forwards the login's callback port from the host while the login runs, and closes it after", async () => {
      let child: ChildProcess | undefined;
      let out = '';
      const ready = new Promise<void>((resolve) => {
        const done = corral(['auth', 'login', 'codex', '--profile', profile], {
          env,
          onSpawn: (c) => {
            child = c;
            // Codex prints its login URL on stderr.
            for (const s of [c.stdout, c.stderr]) {
              s?.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.includes(`localhost:${PORT}`)) resolve();
              });
            }
          },
        });
        void done.then(() => resolve());
      });
      const finished = new Promise<number | null>((resolve) => {
        const wait = () => (child ? child.once('close', (code) => resolve(code)) : setTimeout(wait, 10));
        wait();
      });
      await ready;
      expect(out).toContain(`Starting local login server on http://localhost:${PORT}`);
      // Codex says so a moment before it listens: ask until it answers.
      let answer: number | string = '';
      for (let i = 0; i < 100 && answer !== 400; i++) {
        answer = await status(`http://127.0.0.1:${PORT}/auth/callback?code=forged&state=forged`);
        if (answer !== 400) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toBe(400);
      // The redirect URI Codex registers is the host's loopback: the browser runs on the host.
      expect(out).toContain(encodeURIComponent(`http://127.0.0.1:${PORT}/auth/callback`));
      child?.kill('SIGINT');
      await finished;
      expect(await status(`http://127.0.0.1:${PORT}/`)).toBe('ECONNREFUSED');
    }, 180_000);

    it('explains how to log in an agent it cannot start a login for', async () => {
      const r = await corral(['auth', 'login', 'gemini'], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("cannot start Gemini CLI's login");
      expect(r.stderr).toContain('corral run gemini --profile default');
    });
  });
}
