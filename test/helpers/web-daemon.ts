/**
 * A real `corral daemon` for a test: its own folder (CORRAL_DAEMON_DIR), so it never meets the
 * user's daemon or another test's; HTTP on a free loopback port; its token read from the file
 * `daemon status --json` names.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corral } from './cli.js';

export interface TestDaemon {
  url: string;
  token: string;
  tokenFile: string;
  /** The environment every corral command in the test uses, so the CLI finds this daemon. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Why the daemon cannot be tested on this build (no `corral daemon` yet), or undefined. */
export async function daemonMissing(): Promise<string | undefined> {
  const r = await corral(['daemon', '--help']);
  if (r.code === 0 && r.stdout.includes('Usage: corral daemon')) return undefined;
  return `this build has no \`corral daemon\` (exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0]})`;
}

export async function startTestDaemon(env: NodeJS.ProcessEnv = {}): Promise<TestDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-daemon-'));
  const denv = { ...env, CORRAL_DAEMON_DIR: dir };
  const started = await corral(['daemon', 'start', '--listen', '127.0.0.1:0'], { env: denv });
  if (started.code !== 0) throw new Error(`corral daemon start failed: ${started.stderr}${started.stdout}`);
  const status = await corral(['daemon', 'status', '--json'], { env: denv });
  if (status.code !== 0) throw new Error(`corral daemon status failed: ${status.stderr}`);
  const s = JSON.parse(status.stdout) as { url?: string; tokenFile: string; running: boolean };
  if (!s.running || !s.url) throw new Error(`the daemon reports no HTTP url: ${status.stdout}`);
  const token = (await readFile(s.tokenFile, 'utf8')).trim();
  return {
    url: s.url.replace(/\/$/, ''),
    token,
    tokenFile: s.tokenFile,
    env: denv,
    async stop() {
      await corral(['daemon', 'stop'], { env: denv });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GET/POST the daemon's API with the token, as a non-browser client. */
export async function daemonApi<T>(d: TestDaemon, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${d.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}
