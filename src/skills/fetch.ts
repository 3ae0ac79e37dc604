/**
 * Getting skills from a source on the host: a git URL (cloned with the host's git, so the user's
 * own credentials; never the sandbox's) or a local path (a repository, or a plain folder). A skill
 * is a folder with a SKILL.md: the source's root, or each `*\/SKILL.md` and `skills/*\/SKILL.md`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { CorralError } from '../errors.js';
import { redactUrl } from '../git/remote.js';
import { git } from '../git/run.js';

export interface SourceSpec {
  source: string;
  ref?: string;
  kind: 'git' | 'dir';
}

const REF = /^[\w./-]{1,200}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `URL|path[#ref]`: a path is made absolute; a plain folder takes no ref. */
export function parseSource(text: string, cwd: string): SourceSpec {
  const hash = text.lastIndexOf('#');
  const raw = hash < 0 ? text : text.slice(0, hash);
  const ref = hash < 0 ? undefined : text.slice(hash + 1);
  if (ref !== undefined && (!REF.test(ref) || ref.startsWith('-') || ref.includes('..')))
    throw new CorralError('BAD_INPUT', `"${ref}" is not a git ref.`, 'Use a branch, tag or commit after #.');
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) || /^[\w.-]+@[\w.-]+:/.test(raw);
  if (url) return { source: raw, ...(ref ? { ref } : {}), kind: 'git' };
  const path = isAbsolute(raw) ? raw : resolve(cwd, raw);
  if (!existsSync(path))
    throw new CorralError('BAD_INPUT', `No skill source at ${path}.`, 'Give a git URL or a local folder.');
  const kind = existsSync(join(path, '.git')) ? 'git' : 'dir';
  if (kind === 'dir' && ref)
    throw new CorralError('BAD_INPUT', `${path} is not a git repository, so it has no ref #${ref}.`);
  return { source: path, ...(ref ? { ref } : {}), kind };
}

export interface FetchedSkill {
  name: string;
  path: string;
  /** Where its files are now (inside the checkout). */
  dir: string;
  hash: string;
}

export interface Fetched {
  commit?: string;
  skills: FetchedSkill[];
  /** Removes the checkout. */
  cleanup: () => Promise<void>;
}

/** Check out `ref` (or the default branch) of a source into a temporary folder. */
async function checkout(
  spec: SourceSpec,
  env: NodeJS.ProcessEnv,
): Promise<{ dir: string; commit?: string; tmp?: string }> {
  if (spec.kind === 'dir') return { dir: spec.source };
  const tmp = await mkdtemp(join(tmpdir(), 'corral-skill-'));
  const dir = join(tmp, 'src');
  const fail = async (what: string, stderr: string) => {
    await rm(tmp, { recursive: true, force: true });
    const detail = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ');
    throw new CorralError(
      'GIT_FAILED',
      `Could not ${what} ${redactUrl(spec.source)}${spec.ref ? `#${spec.ref}` : ''}: ${detail.replaceAll(spec.source, redactUrl(spec.source))}`,
      'Check the URL and ref, and that your own git can reach it (`git ls-remote URL`).',
    );
  };
  const clone = await git(['clone', '--quiet', '--no-checkout', '--', spec.source, dir], { env });
  if (clone.code !== 0) await fail('clone', clone.stderr);
  const co = await git(['checkout', '--quiet', '--detach', spec.ref ?? 'HEAD', '--'], { cwd: dir, env });
  if (co.code !== 0) await fail('check out', co.stderr);
  const head = await git(['rev-parse', 'HEAD'], { cwd: dir, env });
  return { dir, commit: head.stdout.trim(), tmp };
}

/** Every regular file under `dir` (no `.git`, no symlinks: a skill is its own files). */
async function files(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === '.git') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p, base)));
    else if (e.isFile()) out.push(relative(base, p));
  }
  return out.sort();
}

/** sha256 over each file's path, executable bit and content. */
export async function hashSkill(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const rel of await files(dir)) {
    const st = await lstat(join(dir, rel));
    h.update(`${rel}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(await readFile(join(dir, rel)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** The skill's name: SKILL.md's front matter `name:`, else its folder's name. */
async function skillName(dir: string, fallback: string): Promise<string> {
  const text = await readFile(join(dir, 'SKILL.md'), 'utf8');
  const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1];
  const named = fm && /^name:\s*["']?([^"'\n]+?)["']?\s*$/m.exec(fm)?.[1];
  const name = (named || fallback).trim();
  if (!NAME.test(name))
    throw new CorralError(
      'BAD_INPUT',
      `The skill in ${fallback} is named "${name}", which is not a folder name.`,
    );
  return name;
}

async function findSkills(root: string, only?: string): Promise<{ path: string; dir: string }[]> {
  if (only !== undefined)
    return existsSync(join(root, only, 'SKILL.md')) ? [{ path: only, dir: join(root, only) }] : [];
  if (existsSync(join(root, 'SKILL.md'))) return [{ path: '', dir: root }];
  const out: { path: string; dir: string }[] = [];
  for (const parent of ['', 'skills']) {
    const base = join(root, parent);
    if (!existsSync(base)) continue;
    for (const e of await readdir(base, { withFileTypes: true })) {
      if (e.isDirectory() && existsSync(join(base, e.name, 'SKILL.md')))
        out.push({ path: join(parent, e.name), dir: join(base, e.name) });
    }
  }
  return out;
}

/** Fetch a source and find its skills (`only`: just the one at that path). */
export async function fetchSkills(spec: SourceSpec, env: NodeJS.ProcessEnv, only?: string): Promise<Fetched> {
  const co = await checkout(spec, env);
  const cleanup = async () => {
    if (co.tmp) await rm(co.tmp, { recursive: true, force: true });
  };
  try {
    const found = await findSkills(co.dir, only);
    const skills: FetchedSkill[] = [];
    for (const f of found) {
      const name = await skillName(
        f.dir,
        f.path ? basename(f.path) : basename(spec.source).replace(/\.git$/, ''),
      );
      skills.push({ name, path: f.path, dir: f.dir, hash: await hashSkill(f.dir) });
    }
    return { ...(co.commit ? { commit: co.commit } : {}), skills, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Copy a skill into the store as `dest` (readable by the sandbox user, whatever uid it maps to),
 * atomically: a sandbox starting meanwhile sees the old copy or the new one.
 */
export async function storeSkill(dir: string, dest: string): Promise<void> {
  if (existsSync(dest)) return;
  await mkdir(join(dest, '..'), { recursive: true, mode: 0o755 });
  await chmod(join(dest, '..'), 0o755);
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await cp(dir, tmp, {
    recursive: true,
    filter: (src) => basename(src) !== '.git',
    verbatimSymlinks: true,
  });
  await openUp(tmp);
  await rename(tmp, dest).catch(async (e) => {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dest)) throw e;
  });
}

/** World-readable (folders enterable), symlinks dropped. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) await rm(p);
    else if (e.isDirectory()) await openUp(p);
    else {
      const st = await lstat(p);
      await chmod(p, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}
