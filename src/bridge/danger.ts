/**
 * Commands refused before the user is even asked. This is a net for the obvious, not a sandbox: the
 * user's approval stays the real gate, so the parser below is a heuristic that errs towards refusing
 * (a false refusal costs the agent a retry; a false pass costs a prompt the user must read).
 * It reads the command the way sh would in the common cases: quotes group words, `;` `&&` `||` `|`
 * `&` newlines and substitutions start new commands, `cd` moves the directory relative paths resolve
 * against, and `~`/`$HOME` mean the host user's home.
 */
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { tokenize } from './shell-words.js';

const WRAPPERS = new Set([
  'env',
  'nohup',
  'exec',
  'command',
  'builtin',
  'nice',
  'ionice',
  'time',
  'timeout',
  'stdbuf',
  'xargs',
  'busybox',
  'sudo',
  'doas',
  'run0',
]);
const PRIVILEGED = new Set(['sudo', 'doas', 'pkexec', 'su', 'run0']);
const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'fish',
  'csh',
  'tcsh',
  'source',
  '.',
  'eval',
]);
const INTERPRETERS = new Set(['python', 'python3', 'perl', 'ruby', 'node', 'php']);
const DOWNLOADERS = new Set(['curl', 'wget', 'fetch', 'aria2c']);
const WRITERS = new Set([
  'tee',
  'cp',
  'mv',
  'ln',
  'install',
  'rsync',
  'dd',
  'truncate',
  'sed',
  'perl',
  'sponge',
]);
const RC_FILES = new Set([
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.mkshrc',
  '.cshrc',
  '.tcshrc',
  '.login',
  'config.fish',
]);
const SYSTEM_DIRS = new Set(
  '/bin /boot /dev /etc /home /lib /lib32 /lib64 /opt /proc /root /sbin /srv /sys /usr /var /Users /System /Library /Applications /private'.split(
    ' ',
  ),
);
const SAFE_DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/\d+|shm\/.*)$/;
const FORK_BOMB = /([^\s(){}|;&]+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1/;

const base = (w: string) => posix.basename(w);

/** The command word and its arguments, past `VAR=x`, `env`, `nohup`, `sudo` and similar wrappers. */
function split(words: string[]): { cmd: string; args: string[]; prefix: string[] } {
  let i = 0;
  let wrapped = false;
  while (i < words.length) {
    const w = words[i]!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i++;
    else if (WRAPPERS.has(base(w))) {
      wrapped = true;
      i++;
    } else if (wrapped && (w.startsWith('-') || /^\d+(\.\d+)?[smhd]?$/.test(w))) i++;
    else break;
  }
  return { cmd: base(words[i] ?? ''), args: words.slice(i + 1), prefix: words.slice(0, i) };
}

interface Ctx {
  home: string;
  cwd: string;
}

/** Where a path argument points: `~` and `$HOME` expanded, trailing globs dropped, `..` resolved. */
function resolveArg(word: string, ctx: Ctx): string {
  let w = word.replace(/^(\$\{HOME\}|\$HOME)(?=\/|$)/, ctx.home);
  if (w === '~' || w.startsWith('~/')) w = ctx.home + w.slice(1);
  while (/(^|\/)\.?\*$/.test(w))
    w = w.slice(0, Math.max(0, w.lastIndexOf('/'))) || (w[0] === '/' ? '/' : '.');
  return posix.resolve(ctx.cwd, w || '.');
}

function precious(path: string, ctx: Ctx): boolean {
  return path === '/' || path === ctx.home || ctx.home.startsWith(`${path}/`) || SYSTEM_DIRS.has(path);
}

function isRcFile(path: string, ctx: Ctx): boolean {
  if (/^\/etc\/(profile|bash\.bashrc|zsh\/|profile\.d\/|environment$)/.test(path)) return true;
  if (!RC_FILES.has(base(path))) return false;
  const dir = posix.dirname(path);
  return (
    dir === ctx.home || /^\/(root|home\/[^/]+|Users\/[^/]+)$/.test(dir) || path.includes('/.config/fish/')
  );
}

const operands = (args: string[]) => {
  const end = args.indexOf('--');
  const flags = end < 0 ? args : args.slice(0, end);
  return [...flags.filter((a) => !a.startsWith('-')), ...(end < 0 ? [] : args.slice(end + 1))];
};
const recursive = (args: string[], short: RegExp) =>
  args.some((a) => a === '--recursive' || (short.test(a) && !a.startsWith('--')));

function checkSegment(words: string[], ctx: Ctx): string | undefined {
  const { cmd, args, prefix } = split(words);
  const priv = [...prefix, cmd].map(base).find((w) => PRIVILEGED.has(w));
  const execs = words.filter((_, i) => /^-(exec|execdir|ok|okdir)$/.test(words[i - 1] ?? ''));
  if (priv ?? execs.map(base).find((w) => PRIVILEGED.has(w))) {
    return `runs with elevated privileges (${priv ?? 'sudo'})`;
  }
  const plain = args.filter((a, i) => a !== '>' && a !== '<' && args[i - 1] !== '>' && args[i - 1] !== '<');
  if (cmd === 'rm' && recursive(plain, /^-[a-zA-Z]*[rR]/)) {
    const hit = operands(plain).find((a) => precious(resolveArg(a, ctx), ctx));
    if (hit !== undefined) return `recursive delete of ${hit}`;
  }
  if (['chmod', 'chown', 'chgrp'].includes(cmd)) {
    const rec = recursive(plain, /^-[a-zA-Z]*R/);
    const hit = operands(plain).find((a) => {
      const p = resolveArg(a, ctx);
      return p === '/' || (rec && precious(p, ctx));
    });
    if (hit !== undefined) return `${cmd} of ${hit}`;
  }
  if (cmd === 'find' && args.some((a) => a === '-delete' || a === 'rm')) {
    const roots = args.slice(
      0,
      Math.max(
        0,
        args.findIndex((a) => /^[-(!]/.test(a)),
      ),
    );
    const hit = roots.find((a) => precious(resolveArg(a, ctx), ctx));
    if (hit !== undefined) return `recursive delete of ${hit}`;
  }
  if (/^mkfs(\..+)?$/.test(cmd) || ['mke2fs', 'mkswap', 'wipefs'].includes(cmd))
    return 'formats a filesystem';
  if (['shutdown', 'reboot', 'halt', 'poweroff'].includes(cmd)) return 'shuts the host down';
  const targets = args.filter((_, i) => args[i - 1] === '>');
  const devices = [
    ...targets,
    ...(cmd === 'dd' ? args.filter((a) => a.startsWith('of=')).map((a) => a.slice(3)) : []),
  ];
  if (devices.some((d) => d.startsWith('/dev/') && !SAFE_DEVICES.test(d))) return 'writes raw to a device';
  const written = [...targets, ...(WRITERS.has(cmd) ? plain : [])];
  if (written.some((a) => isRcFile(resolveArg(a, ctx), ctx))) return 'writes to a shell startup file';
  if (words.some((w) => /(^|[/=~])\.ssh(\/|$)/.test(w) || w.includes('authorized_keys'))) {
    return 'touches SSH keys';
  }
  return undefined;
}

/** Why `command` is refused outright, or undefined when it may go on to the allowlist and the user. */
export function dangerReason(command: string, cwd: string, home = homedir()): string | undefined {
  if (FORK_BOMB.test(command)) return 'fork bomb';
  if (/authorized_keys|(^|[^\w.-])\.ssh(\/|\b)/.test(command)) return 'touches SSH keys';
  const ctx: Ctx = { home, cwd };
  const segs = tokenize(command);
  for (const [i, seg] of segs.entries()) {
    const { cmd, args } = split(seg.words);
    if (cmd === 'cd' || cmd === 'pushd') {
      const to = args.find((a) => !a.startsWith('-'));
      ctx.cwd = to === undefined ? home : resolveArg(to, ctx);
      continue;
    }
    const reason = checkSegment(seg.words, ctx);
    if (reason) return reason;
    if (DOWNLOADERS.has(cmd)) {
      // Everything later in the same pipeline reads the download.
      for (let j = i; j < segs.length && segs[j]!.sep === '|'; j++) {
        const reader = split(segs[j + 1]?.words ?? []).cmd;
        if (SHELLS.has(reader) || INTERPRETERS.has(reader)) return 'pipes a download into a shell';
      }
    }
    if ((SHELLS.has(cmd) || INTERPRETERS.has(cmd)) && (seg.sep === '<(' || seg.sep === '$(')) {
      if (DOWNLOADERS.has(split(segs[i + 1]?.words ?? []).cmd)) return 'runs a download in a shell';
    }
  }
  return undefined;
}
