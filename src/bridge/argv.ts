/**
 * A command line read as argv, the way the bridge runs it without a shell. Only words, whitespace,
 * quotes and backslashes are understood; anything that would make sh do more (run a second
 * command, redirect, substitute, assign) means the line is not plain. Expansions (`$VAR`, globs,
 * `~`) are recorded, because argv and sh read such a line differently: the bridge then either runs
 * the words literally (a prefix pattern matched) or needs sh (a command a person approved as typed).
 */

export interface ParsedArgv {
  argv: string[];
  /** sh would expand something in it: `$`, `*`, `?`, `[`, a leading `~`, `{`. */
  expands: boolean;
}

/** Characters that end a simple command, redirect, group or substitute in sh. */
const OPERATORS = new Set([';', '&', '|', '<', '>', '(', ')', '`', '\n', '\r']);
const GLOB = new Set(['*', '?', '[', '{', '}']);

/** The words of a plain command line, or undefined when it needs a shell to mean what it says. */
export function parseArgv(command: string): ParsedArgv | undefined {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let expands = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        const d = command[j]!;
        if (d === '`') return undefined;
        if (d === '$') {
          if (command[j + 1] === '(') return undefined;
          expands = true;
        }
        if (d === '\\' && j + 1 < command.length && '"\\$`'.includes(command[j + 1]!)) j++;
        word += command[j];
      }
      if (j >= command.length) return undefined;
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= command.length || command[i + 1] === '\n') return undefined;
      word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else if (OPERATORS.has(c)) {
      return undefined;
    } else {
      if (c === '$') {
        if (command[i + 1] === '(') return undefined;
        expands = true;
      }
      if (GLOB.has(c) || (c === '~' && !inWord)) expands = true;
      // A comment: sh drops the rest of the line, argv would not.
      if (c === '#' && !inWord) return undefined;
      word += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  if (!argv.length) return undefined;
  // `NAME=value cmd` sets a variable for sh; as argv it would run a program called NAME=value.
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) return undefined;
  return { argv, expands };
}

/**
 * What to execute for `command`: its words when argv means what sh would, else `/bin/sh -c`. A
 * prefix-pattern match (`literal`) always runs its words as given, expanding nothing.
 */
export function execArgv(command: string, literal = false): string[] {
  const parsed = parseArgv(command);
  if (parsed && (literal || !parsed.expands)) return parsed.argv;
  return ['/bin/sh', '-c', command];
}
