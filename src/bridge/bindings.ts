/**
 * An allowed entry is bound to the content of the workspace files that decide what its command
 * does (tools-of.ts): the sha256 of their relevant part is stored with the entry, and a copy of
 * that part is kept in corral's data folder so a change can be shown as a diff when the command
 * asks again. Files are read without following links: a bound file that is a link (or not a
 * regular file) cannot be bound, so a command that needs it is refused rather than run.
 */
import { createHash } from 'node:crypto';
import { constants, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { writeFileAtomic } from '../config/json-store.js';
import { parseArgv } from './argv.js';
import { tokenize } from './shell-words.js';
import { boundFilesOf, commandWord } from './tools-of.js';

export interface Binding {
  /** sha256 (hex) of `text`. */
  hash: string;
  /** The bound files, workspace-relative, with the keys bound where only some are (`package.json (scripts, config)`). */
  files: string[];
  /** The relevant part of each file, as shown in a diff. */
  text: string;
  /** Why it cannot be bound (a link, a folder): the command is then refused. */
  problem?: string;
}

const MAX_BYTES = 1024 * 1024;
/** Kept next to the allowlist file they belong to. */
export const bindingsDir = (allowlist: string): string => join(dirname(allowlist), 'allowed-bindings');

/** The command words of every simple command in `command` (a shell line may hold several). */
function commandWords(command: string): string[] {
  const plain = parseArgv(command);
  if (plain) return [commandWord(plain.argv).word];
  return tokenize(command).map((s) => commandWord(s.words).word);
}

/** Reads one file without following a link; undefined when absent. */
async function readBound(path: string): Promise<{ text?: string; problem?: string }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { problem: code === 'ELOOP' ? 'is a symbolic link' : `cannot be read (${code})` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { problem: 'is not a regular file' };
    if (st.size > MAX_BYTES) return { problem: `is larger than ${MAX_BYTES} bytes` };
    return { text: (await fh.readFile()).toString('utf8') };
  } finally {
    await fh.close();
  }
}

/** Only the named top-level keys of a JSON file; the whole text when it is not JSON. */
function pickKeys(text: string, keys: string[]): string {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const picked = Object.fromEntries(keys.filter((k) => k in value).map((k) => [k, value[k]]));
    return JSON.stringify(picked, null, 2);
  } catch {
    return text;
  }
}

/** The binding of `command` in `workspace` now, or undefined when no workspace file decides it. */
export async function currentBinding(workspace: string, command: string): Promise<Binding | undefined> {
  const specs = [...new Set(commandWords(command).flatMap((w) => boundFilesOf(w, workspace)))];
  if (!specs.length) return undefined;
  const parts: string[] = [];
  const files: string[] = [];
  let problem: string | undefined;
  for (const spec of specs) {
    const [rel, keyList] = spec.split('#') as [string, string | undefined];
    const keys = keyList?.split(',') ?? [];
    // A path that leaves the workspace is never read (`../x` as a command word).
    if (posix.normalize(rel).startsWith('..')) continue;
    const got = await readBound(join(workspace, rel));
    const label = keys.length ? `${rel} (${keys.join(', ')})` : rel;
    if (got.problem) problem ??= `${rel} ${got.problem}`;
    if (got.text === undefined && !got.problem) continue;
    files.push(label);
    const body = got.problem ? `(${got.problem})` : keys.length ? pickKeys(got.text!, keys) : got.text!;
    parts.push(`=== ${label}\n${body.endsWith('\n') ? body : `${body}\n`}`);
  }
  // Absent files are bound too: a Makefile appearing later changes what `make` does.
  const text = parts.join('') || '(none of the files exist)\n';
  const hash = createHash('sha256')
    .update(`${specs.join('\n')}\n\n${text}`)
    .digest('hex');
  return { hash, files, text, ...(problem ? { problem } : {}) };
}

/** Short form shown to people: enough to compare, not the whole digest. */
export const shortHash = (hash: string): string => `sha256:${hash.slice(0, 16)}`;

/** Keep the bound text under its hash, for the diff when it changes. */
export async function saveBinding(b: Binding, allowlist: string): Promise<void> {
  await mkdir(bindingsDir(allowlist), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(bindingsDir(allowlist), b.hash), b.text);
}

async function savedText(hash: string, allowlist: string): Promise<string | undefined> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return readFile(join(bindingsDir(allowlist), hash), 'utf8').catch(() => undefined);
}

/** What changed since the entry was allowed, as a unified diff of the relevant parts. */
export async function bindingDiff(
  from: string | undefined,
  now: Binding,
  allowlist: string,
): Promise<string> {
  const before = from ? await savedText(from, allowlist) : undefined;
  if (from && before === undefined) return `(the content allowed earlier, ${shortHash(from)}, was not kept)`;
  const patch = createTwoFilesPatch('allowed', 'now', before ?? '', now.text, undefined, undefined, {
    context: 2,
  });
  // Drop the `Index:`/`===`/`---`/`+++` header: the prompt says what is compared.
  return patch
    .split('\n')
    .filter((l) => !/^(Index:|={5,}|--- allowed|\+\+\+ now)/.test(l))
    .join('\n')
    .trim();
}
