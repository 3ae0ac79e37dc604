/**
 * Which files a scan looks at. It mirrors what git would track, because that is what keeps a scan of
 * a big repository (build output, virtualenvs, vendored trees) inside its budget, with one deliberate
 * exception: files that exist to hold credentials (`.env`, `id_rsa`, `.npmrc`, …) are the reason
 * people gitignore things, and the sandbox mounts the whole folder, ignored files included, so those
 * names are scanned even when ignored. Symlinks are never followed: their targets may lie outside the
 * workspace, and a link inside it is scanned where it really lives.
 */
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

const SKIP_DIRS = new Set(['.git', 'node_modules']);

/** Names scanned even when .gitignore excludes them (see the module comment). */
export const ALWAYS_SCAN =
  /^\.env(\..+)?$|.\.env$|^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$|^\.npmrc$|^\.netrc$|^_netrc$|^\.git-credentials$|^\.pypirc$|^\.pgpass$|^kubeconfig$|^credentials(\.json)?$|service[-_]?account.*\.json$|\.(pem|key)$/;

/** The .gitignore files between the root and one directory, each with the folder it sits in. */
export interface IgnoreLayer {
  dir: string;
  rules: Ignore;
}

export interface DirListing {
  files: string[];
  dirs: string[];
  /** The ignore layers in force inside the folder, for its subfolders. */
  layers: IgnoreLayer[];
}

function readIgnore(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The layers in force inside `dir`: its parent's plus its own .gitignore (and, at the root, .git/info/exclude). */
function layersFor(root: string, dir: string, parent: IgnoreLayer[], hasIgnoreFile: boolean): IgnoreLayer[] {
  const sources = [hasIgnoreFile ? readIgnore(join(root, dir, '.gitignore')) : undefined];
  if (dir === '') sources.unshift(readIgnore(join(root, '.git/info/exclude')));
  const text = sources.filter((s) => s !== undefined).join('\n');
  return text ? [...parent, { dir, rules: ignore().add(text) }] : parent;
}

/** Git's rule: deeper files override shallower ones, and a `!pattern` can re-include. */
export function isIgnored(layers: IgnoreLayer[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { dir, rules } of layers) {
    const sub = dir ? rel.slice(dir.length + 1) : rel;
    const r = rules.test(isDir ? `${sub}/` : sub);
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}

/**
 * Regular files and directories of one folder, filtered, with the ignore layers in force inside it;
 * an unreadable folder lists as empty. Synchronous: on the start path a walk of a thousand folders
 * is mostly waiting for the thread pool otherwise (the caller yields between batches).
 */
export function readFolder(root: string, dir: string, parent: IgnoreLayer[]): DirListing {
  const out: DirListing = { files: [], dirs: [], layers: parent };
  let entries: Dirent[];
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  // Only a folder that has a .gitignore costs a read for it.
  const layers = layersFor(
    root,
    dir,
    parent,
    entries.some((e) => e.name === '.gitignore' && !e.isDirectory()),
  );
  out.layers = layers;
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (SKIP_DIRS.has(e.name)) {
        // The remote URLs in .git/config sometimes carry a token; the rest of .git is git's own.
        if (e.name === '.git') out.files.push(`${rel}/config`);
        continue;
      }
      if (!isIgnored(layers, rel, true)) out.dirs.push(rel);
    } else if (e.isFile()) {
      if (ALWAYS_SCAN.test(e.name) || !isIgnored(layers, rel, false)) out.files.push(rel);
    }
    // Symlinks, sockets, FIFOs and devices are not scanned: see the module comment.
  }
  return out;
}
