/**
 * The OS keyring, where one answers: libsecret's `secret-tool` on a Linux desktop session. The
 * secret travels on stdin, never in argv (which every local user can read in `ps`). Without a
 * keyring (servers, CI, macOS for now) callers fall back to a 0600 file.
 */
import { spawn } from 'node:child_process';

export interface Keyring {
  readonly name: string;
  store(account: string, secret: string): Promise<void>;
  lookup(account: string): Promise<string | undefined>;
  clear(account: string): Promise<void>;
}

const SERVICE = 'corral';

function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'ignore'], timeout: 10_000 });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`${file} exited ${code}`)),
    );
    child.stdin.end(input ?? '');
  });
}

export function secretTool(bin = 'secret-tool'): Keyring {
  const attrs = (account: string) => ['service', SERVICE, 'account', account];
  return {
    name: 'the keyring (secret-tool)',
    store: async (account, secret) => {
      await run(bin, ['store', `--label=corral ${account}`, ...attrs(account)], secret);
    },
    lookup: async (account) => {
      const value = await run(bin, ['lookup', ...attrs(account)]).catch(() => '');
      return value.replace(/\n$/, '') || undefined;
    },
    clear: async (account) => {
      await run(bin, ['clear', ...attrs(account)]).catch(() => '');
    },
  };
}

/**
 * CORRAL_KEYRING=off never uses one; `auto` (default) uses secret-tool when a desktop session bus
 * is there to answer it. Whether secret-tool is installed shows when storing: a failure there
 * falls back to the file, and says so.
 */
export function detectKeyring(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const mode = env.CORRAL_KEYRING ?? 'auto';
  if (mode === 'off') return undefined;
  const bin = env.CORRAL_SECRET_TOOL ?? 'secret-tool';
  if (process.platform !== 'linux' || !env.DBUS_SESSION_BUS_ADDRESS) return undefined;
  return secretTool(bin);
}
