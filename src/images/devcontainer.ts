/**
 * The image a devcontainer.json names, or builds from its Dockerfile, as a base for the agent.
 * A built one is tagged by a hash of its Dockerfile, build args and the (dockerignore-filtered)
 * context's file names, sizes and mtimes: cheap enough to compute on every start, and any edit
 * in the context makes a new tag.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Devcontainer } from '../config/devcontainer.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { contentHash } from './hash.js';
import type { Progress } from './progress.js';
import { LABEL_IMAGE, REPO } from './recipes.js';

type BuildSource = Extract<Devcontainer['source'], { dockerfile: string }>;

const toPosix = (p: string) => p.split(sep).join('/');

/** Files of the build context after .dockerignore, as sorted POSIX paths relative to it. */
export async function contextEntries(context: string, dockerfile: string): Promise<string[]> {
  const patterns = await readFile(join(context, '.dockerignore'), 'utf8')
    .then((t) => t.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')))
    .catch(() => [] as string[]);
  // CommonJS: module.exports is the factory, which the typings call `default.default`.
  const mod = (await import('@balena/dockerignore')).default;
  const dockerignore = mod as unknown as typeof mod.default;
  const ig = dockerignore().add(patterns);
  // A directory can be skipped whole only when no "!" rule could bring a file inside it back.
  const prune = !patterns.some((p) => p.trim().startsWith('!'));
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const rel = toPosix(relative(context, join(dir, e.name)));
      if (e.isDirectory()) {
        if (!(prune && ig.ignores(rel))) await walk(join(dir, e.name));
      } else if ((e.isFile() || e.isSymbolicLink()) && !ig.ignores(rel)) out.push(rel);
    }
  };
  await walk(context);
  // The engine needs the Dockerfile even when .dockerignore names it.
  const df = toPosix(relative(context, dockerfile));
  if (!out.includes(df)) out.push(df);
  return out.sort();
}

export async function devBuildTag(source: BuildSource): Promise<{ tag: string; entries: string[] }> {
  const rel = relative(source.context, source.dockerfile);
  if (rel.startsWith('..')) {
    throw new CorralError(
      'CONFIG_INVALID',
      `The devcontainer's Dockerfile ${source.dockerfile} lies outside its build context ${source.context}.`,
      'Set build.context to a folder that contains the Dockerfile.',
    );
  }
  const entries = await contextEntries(source.context, source.dockerfile);
  const stamps = await Promise.all(
    entries.map(async (e) => {
      const s = await stat(join(source.context, e)).catch(() => undefined);
      return `${e}\0${s?.size ?? -1}\0${s?.mtimeMs ?? 0}`;
    }),
  );
  const tag = `${REPO}/devcontainer:${contentHash(
    'devcontainer-v1',
    await readFile(source.dockerfile),
    JSON.stringify(Object.entries(source.args).sort()),
    source.target ?? '',
    ...stamps,
  )}`;
  return { tag, entries };
}

/** The devcontainer's image, pulled or built as needed; returns the tag to build the agent onto. */
export async function ensureDevBase(
  engine: ContainerEngine,
  dev: Devcontainer,
  opts: { progress: Progress; rebuild?: boolean; noCache?: boolean },
): Promise<string> {
  if ('image' in dev.source) {
    const image = dev.source.image;
    if (await engine.imageExists(image)) return image;
    opts.progress.step(`devcontainer: pulling ${image}`);
    try {
      await engine.pullImage(image, (l) => opts.progress.line(l));
    } catch (e) {
      throw new CorralError(
        'IMAGE_NOT_FOUND',
        `Cannot pull ${image} (image in ${dev.path}): ${(e as Error).message}`,
        'Pull or build that image yourself, or point "image" at one the engine has.',
      );
    }
    return image;
  }
  const source = dev.source;
  const { tag, entries } = await devBuildTag(source);
  if (!opts.rebuild && (await engine.imageExists(tag))) return tag;
  opts.progress.step(`devcontainer: building ${relative(source.context, source.dockerfile)}`);
  const { pack } = (await import('tar-fs')).default;
  await engine.buildImage({
    context: pack(source.context, { entries, sort: true } as never) as never,
    dockerfile: toPosix(relative(source.context, source.dockerfile)),
    tag,
    labels: { [LABEL_IMAGE]: 'devcontainer' },
    buildArgs: source.args,
    ...(source.target ? { target: source.target } : {}),
    ...(opts.noCache ? { noCache: true } : {}),
    onOutput: (l) => opts.progress.line(l),
  });
  return tag;
}
