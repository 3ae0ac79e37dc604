/**
 * Host-side confinement of host commands with bubblewrap (`bridge.confine`, on by default where it
 * works): the root filesystem read-only, the workspace writable, the user's home, other homes,
 * /tmp, /run (engine sockets, the session bus) and corral's own folders replaced by empty tmpfs,
 * the password hashes and SSH host keys hidden, every capability dropped (as root, bwrap would
 * otherwise keep them and a command could unmount what hides the home), its own PID namespace, and
 * no network unless `bridge.network` allows it.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, posix } from 'node:path';
import { corralPaths } from '../config/paths.js';

export const BWRAP = 'bwrap';

let works: Promise<boolean> | undefined;

/** Does bubblewrap run here (installed, and the kernel lets it make namespaces)? Asked once. */
export function confinementAvailable(): Promise<boolean> {
  works ??= new Promise((resolve) => {
    const child = spawn(
      BWRAP,
      [
        '--ro-bind',
        '/',
        '/',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--unshare-net',
        '--unshare-pid',
        '--cap-drop',
        'ALL',
        'true',
      ],
      { stdio: 'ignore' },
    );
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
  return works;
}

export interface ConfineOptions {
  workspace: string;
  network: boolean;
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/** Folders corral keeps its state, logins and config in: hidden from host commands. */
function corralDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = [corralPaths.data, corralPaths.config, corralPaths.cache, corralPaths.log, corralPaths.temp];
  for (const k of ['CORRAL_DATA_DIR', 'CORRAL_STATE_DIR', 'CORRAL_CACHE_DIR']) if (env[k]) dirs.push(env[k]);
  if (env.CORRAL_CONFIG) dirs.push(dirname(env.CORRAL_CONFIG));
  return dirs;
}

const depth = (p: string) => posix.normalize(p).split('/').filter(Boolean).length;
const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/** The bwrap command line that runs `argv` confined. */
export function confinedArgv(argv: readonly string[], o: ConfineOptions): string[] {
  const env = o.env ?? process.env;
  const home = o.home ?? homedir();
  const hidden = [
    home,
    '/root',
    '/home',
    '/tmp',
    '/var/tmp',
    '/run',
    '/etc/ssh',
    '/var/lib/docker',
    '/var/lib/containers',
    ...corralDirs(env),
  ]
    .map((d) => posix.resolve(d))
    // The workspace itself stays visible even when it is one of these (a home used as workspace).
    .filter((d, i, all) => all.indexOf(d) === i && d !== o.workspace && existsSync(d));
  // Mounts apply in order: a parent before what lies inside it (the workspace inside a hidden
  // home is bound after the home's tmpfs; corral's data inside the workspace is hidden after it).
  const mounts: Array<{ path: string; args: string[] }> = [
    ...hidden.map((d) => ({ path: d, args: ['--tmpfs', d] })),
    { path: o.workspace, args: ['--bind', o.workspace, o.workspace] },
  ];
  if (o.network) {
    // Hiding /run must not take DNS with it: resolv.conf is often a link into /run.
    const resolv = realpathOr('/etc/resolv.conf');
    if (resolv && hidden.some((d) => inside(resolv, d)))
      mounts.push({ path: resolv, args: ['--ro-bind', resolv, resolv] });
  }
  mounts.sort((a, b) => depth(a.path) - depth(b.path));
  const files = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'].filter((f) => existsSync(f));
  return [
    BWRAP,
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...mounts.flatMap((m) => m.args),
    ...files.flatMap((f) => ['--ro-bind', '/dev/null', f]),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(o.network ? [] : ['--unshare-net']),
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--chdir',
    o.workspace,
    '--',
    ...argv,
  ];
}

function realpathOr(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}
