/**
 * Arguments that change what a tool runs. A prefix pattern (`npm test*`) approves arguments to a
 * command whose definition is bound to the workspace's files (bindings.ts); these would swap the
 * definition for another one (`--script-shell=/x`, `-c CONFIG`, `--eval CODE`, `-f OTHER-MAKEFILE`),
 * so after an allowed prefix they are refused. Exact entries are not checked: a person read them.
 *
 * The lists err towards refusing: a false refusal costs the agent asking for the exact command.
 */
import { posix } from 'node:path';
import { toolOf } from './tools-of.js';

/** Long options refused after a prefix for every tool (a script's own program gets them too). */
const LONG_ANY = [
  '--eval',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--script-shell',
  '--node-options',
  '--userconfig',
  '--globalconfig',
  '--config',
  '--config-file',
  '--rcfile',
  '--init-file',
  '--init-script',
  '--prefix',
  '--exec',
  '--shell',
  '--shell-arg',
  '--command',
  '--manifest-path',
  '--directory',
  '--dir',
  '--cwd',
  '--working-directory',
  '--rootdir',
  '--confcutdir',
  '--noxfile',
  '--conf',
  '--settings',
  '--settings-file',
  '--build-file',
  '--project-dir',
  '--set',
  '--upload-pack',
  '--exec-path',
  '--toolexec',
  '--overlay',
  '--modfile',
];
/** Options that name a file to read the tool's definition from: allowed only for a bound file. */
const FILE_OPTIONS = ['-f', '--file', '--makefile', '--justfile'];

/** Short options refused after a prefix, per tool (a letter means different things to each). */
const SHORT: Record<string, string[]> = {
  node: ['-e', '-p', '-r', '-c', '-C'],
  make: ['-C', '-E', '-I'],
  just: ['-d', '-c'],
  cargo: ['-Z', '-C'],
  python: ['-c', '-p'],
  go: [],
  jvm: ['-I', '-c', '-b', '-p', '-s'],
  git: ['-c', '-C'],
};
/** After `--` the script's own program gets the words: the short options any tool reads as code. */
const SHORT_ANY = ['-e', '-c', '-r', '-C', '-I'];

/** Why `args` (the words after an allowed prefix) are refused, or undefined when they may run. */
export function riskyArgument(
  argv0: string,
  args: readonly string[],
  workspace: string,
  boundFiles: readonly string[],
): string | undefined {
  const tool = toolOf(argv0);
  const shorts = [...(SHORT[tool?.family ?? ''] ?? []), ...SHORT_ANY];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.split('=')[0]! : a;
    let file: string | undefined;
    let named = false;
    if (FILE_OPTIONS.includes(a)) {
      named = true;
      file = args[++i];
    } else if (FILE_OPTIONS.includes(name) && a.includes('=')) {
      named = true;
      file = a.slice(a.indexOf('=') + 1);
    } else if (/^-f./.test(a) && !a.startsWith('--')) {
      named = true;
      file = a.slice(2);
    }
    if (named) {
      const rel = file === undefined ? '' : posix.relative(workspace, posix.resolve(workspace, file));
      if (!rel || !boundFiles.includes(rel)) {
        const where = rel.startsWith('..') || posix.isAbsolute(rel) ? ', outside the workspace' : '';
        return `${name} ${file ?? ''} reads a definition from a file the allowed entry is not bound to${where}`;
      }
      continue;
    }
    if (a.startsWith('--')) {
      if (LONG_ANY.includes(name)) return `${name} changes what runs`;
      continue;
    }
    if (/^-[A-Za-z]/.test(a)) {
      const hit = shorts.find((s) => a === s || a.startsWith(s));
      if (hit) return `${hit} changes what runs`;
    }
  }
  return undefined;
}
