/**
 * A workspace copied to where the sandbox runs (another machine, a cluster's volume) and brought
 * back: a three-way sync against the state both sides had after the last exchange (the base,
 * kept on this machine). A file changed on only one side travels; a file changed on both sides
 * to different contents is a conflict and nothing moves until the user settles it. Regular files
 * are compared by sha256; symlinks travel with the first upload only.
 *
 * The trees are interfaces (a folder here, a folder over SSH; a pod's volume can be a third) so
 * the Kubernetes `upload` workspace can share this.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { CorralError } from '../../errors.js';

export type Manifest = Map<string, string>;

export interface FileTree {
  readonly label: string;
  /** path (relative, `/`-separated) → sha256 of every regular file; undefined if the tree is missing. */
  manifest(): Promise<Manifest | undefined>;
  /** A tar of these files (all of the tree when `paths` is undefined). */
  pack(paths?: string[]): Promise<Readable>;
  unpack(tar: Readable): Promise<void>;
  remove(paths: string[]): Promise<void>;
}

export interface SyncReport {
  direction: 'push' | 'pull';
  changed: string[];
  removed: string[];
  /** Changed on the other side only: they move the other way next time. */
  pending: number;
  full?: boolean;
}

export interface Plan {
  /** Files to copy from `from` to `to` (present on `from`). */
  copy: string[];
  /** Files gone on `from` to delete on `to`. */
  remove: string[];
  conflicts: string[];
  /** Changed only on `to`. */
  pending: string[];
  base: Manifest;
}

/** What moves from `from` to `to`, given the base both agreed on. Pure; unit-tested. */
export function plan(from: Manifest, to: Manifest, base: Manifest): Plan {
  const paths = new Set([...from.keys(), ...to.keys(), ...base.keys()]);
  const out: Plan = { copy: [], remove: [], conflicts: [], pending: [], base: new Map(base) };
  for (const p of [...paths].sort()) {
    const f = from.get(p);
    const t = to.get(p);
    const b = base.get(p);
    if (f === t) {
      // Same on both sides (or gone from both): that is the new agreement.
      if (f === undefined) out.base.delete(p);
      else out.base.set(p, f);
      continue;
    }
    const fromChanged = f !== b;
    const toChanged = t !== b;
    if (fromChanged && toChanged) out.conflicts.push(p);
    else if (fromChanged) {
      if (f === undefined) {
        out.remove.push(p);
        out.base.delete(p);
      } else {
        out.copy.push(p);
        out.base.set(p, f);
      }
    } else if (toChanged) out.pending.push(p);
  }
  return out;
}

/** The syncs under way in this process, by base file: one pair of trees syncs one at a time. */
const underWay = new Map<string, Promise<unknown>>();

/**
 * Bring `to` up to `from` where only `from` changed. With no base yet (the first upload), `to`
 * gets all of `from`. Two syncs of the same pair in this process (a run pushing the gateway's
 * settings while its services' routes are pushed) wait for each other: side by side, both read the
 * same base, both copied, and both wrote the base through the same temp file (one rename then
 * failed, ENOENT, seen in remote-gateway.test.ts).
 */
export function syncTrees(
  from: FileTree,
  to: FileTree,
  baseFile: string,
  direction: 'push' | 'pull',
): Promise<SyncReport> {
  const before = underWay.get(baseFile) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(() => syncOnce(from, to, baseFile, direction));
  const settled = mine.catch(() => undefined);
  underWay.set(baseFile, settled);
  void settled.then(() => {
    if (underWay.get(baseFile) === settled) underWay.delete(baseFile);
  });
  return mine;
}

async function syncOnce(
  from: FileTree,
  to: FileTree,
  baseFile: string,
  direction: 'push' | 'pull',
): Promise<SyncReport> {
  const base = await readBase(baseFile);
  const [f, t] = await Promise.all([from.manifest(), to.manifest()]);
  if (!f) throw new CorralError('WORKSPACE_INVALID', `${from.label} is missing: nothing to sync.`);
  if (!base || !t) {
    if (direction === 'pull') {
      throw new CorralError(
        'WORKSPACE_INVALID',
        `${to.label} was never uploaded to ${from.label}, so there is nothing to bring back.`,
        'Start a sandbox there first (corral run / corral shell).',
      );
    }
    // A copy there from before (its base lost): its stale files go, but not its sockets (a
    // forwarded bridge socket may already be in it), so no `rm -rf`.
    const stale = t ? [...t.keys()].filter((p) => !f.has(p)) : [];
    if (stale.length) await to.remove(stale);
    await to.unpack(await from.pack());
    await writeBase(baseFile, f);
    return { direction, changed: [...f.keys()], removed: [], pending: 0, full: true };
  }
  const p = plan(f, t, base);
  if (p.conflicts.length) {
    const list = p.conflicts.slice(0, 10).join(', ') + (p.conflicts.length > 10 ? ', …' : '');
    throw new CorralError(
      'MERGE_CONFLICT',
      `${p.conflicts.length} file(s) changed both in ${from.label} and in ${to.label} since the last sync: ${list}. Nothing was copied.`,
      direction === 'pull'
        ? 'Keep one version of each (undo your local edit, or change the sandbox copy), then `corral pull` again.'
        : 'Bring the sandbox copy back first (`corral pull`), settle the files changed on both sides, then start again.',
    );
  }
  if (p.copy.length) await to.unpack(await from.pack(p.copy));
  if (p.remove.length) await to.remove(p.remove);
  await writeBase(baseFile, p.base);
  return { direction, changed: p.copy, removed: p.remove, pending: p.pending.length };
}

async function readBase(file: string): Promise<Manifest | undefined> {
  try {
    return new Map(Object.entries(JSON.parse(await readFile(file, 'utf8')) as Record<string, string>));
  } catch {
    return undefined;
  }
}

async function writeBase(file: string, m: Manifest): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(Object.fromEntries(m)), { mode: 0o600 });
  await rename(tmp, file);
}

/** A folder on this machine. */
export class LocalTree implements FileTree {
  constructor(readonly root: string) {}

  get label(): string {
    return this.root;
  }

  async manifest(): Promise<Manifest | undefined> {
    const out: Manifest = new Map();
    // A file or folder gone between the listing and the reading was being replaced (a temporary
    // file renamed into place: corral writes the gateway folder while a sandbox's copy is pushed):
    // it is left out, not taken for the whole tree missing.
    const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.root, rel), { withFileTypes: true }).catch((e) => {
        if (rel && gone(e)) return [];
        throw e;
      });
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(r);
        else if (e.isFile()) {
          const hash = await hashFile(join(this.root, r)).catch((x) => {
            if (gone(x)) return undefined;
            throw x;
          });
          if (hash) out.set(r, hash);
        }
      }
    };
    try {
      await walk('');
    } catch (e) {
      if (gone(e)) return undefined;
      throw e;
    }
    return out;
  }

  async pack(paths?: string[]): Promise<Readable> {
    return tarOut(['-C', this.root], paths);
  }

  async unpack(tar: Readable): Promise<void> {
    await mkdir(this.root, { recursive: true });
    // As root, tar would keep the remote user's uid on the files: they are this user's.
    await runTar(['-C', this.root, '--no-same-owner', '-xf', '-'], tar);
  }

  async remove(paths: string[]): Promise<void> {
    for (const p of paths) await rm(join(this.root, p), { force: true });
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** `tar -c` of the listed files (NUL-separated on stdin) or of the whole folder. */
export function tarOut(dirArgs: string[], paths?: string[]): Readable {
  const p = spawn('tar', [...dirArgs, '-cf', '-', ...(paths ? ['--null', '-T', '-'] : ['.'])], {
    stdio: [paths ? 'pipe' : 'ignore', 'pipe', 'ignore'],
  });
  if (paths) p.stdin?.end(paths.map((x) => `./${x}\0`).join(''));
  // Read from now on: Node resumes (and so drops) a child's stdout that nobody reads when the
  // child exits, and a small archive's tar can exit during the awaits before the reader pipes it
  // (0 bytes, exit 0: half the syncs under load failed with "does not look like a tar archive").
  const out = new PassThrough();
  p.stdout?.pipe(out);
  return out;
}

function runTar(args: string[], input: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('tar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    input.pipe(p.stdin);
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new CorralError('WORKSPACE_INVALID', `tar failed: ${err.trim().slice(-300)}`)),
    );
  });
}
