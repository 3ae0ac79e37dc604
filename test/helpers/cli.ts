/**
 * Runs the built CLI (`bin/corral.js` → dist/) as a real subprocess, the way users run it, so
 * argument parsing, exit codes, stdio and signal handling are all under test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/corral.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Run as another host user (uid), via runuser. */
  asUser?: string;
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/**
 * The test process's environment, for a corral it starts. Under `npm test` it holds npm's settings
 * for this user (npm_config_cache=/root/.npm…): another user's corral must not get them, or the npm
 * it runs to fetch the Node toolchain cannot use its own cache.
 */
function inherited(asUser: string | undefined): NodeJS.ProcessEnv {
  if (!asUser) return process.env;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

/**
 * CORRAL_TEST_ISOLATION=gvisor runs every sandbox a suite starts through the CLI on gVisor
 * (as CORRAL_ISOLATION; a test's own env still wins), so the attack suites run unchanged on it.
 */
const isolationEnv = (): NodeJS.ProcessEnv =>
  process.env.CORRAL_TEST_ISOLATION ? { CORRAL_ISOLATION: process.env.CORRAL_TEST_ISOLATION } : {};

export function corral(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const argv = opts.asUser
    ? ['runuser', '-u', opts.asUser, '--', process.execPath, BIN, ...args]
    : [process.execPath, BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd ?? ROOT,
    env: { ...inherited(opts.asUser), ...isolationEnv(), ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/** A throwaway workspace folder (world-writable parent so a second host user can use it too). */
export async function tempWorkspace(prefix = 'corral-ws-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeConfig(dir: string, yaml: string): Promise<string> {
  const path = join(dir, 'config.yaml');
  await writeFile(path, yaml);
  return path;
}
