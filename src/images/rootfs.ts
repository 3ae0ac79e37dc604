/**
 * The Debian root filesystem every image starts from. With a registry, it is `debian:<suite>-slim`
 * plus our packages; without one (these machines), debootstrap builds it from the Debian mirror
 * and the engine imports the tarball. The tarball is cached, so a second engine imports it in
 * seconds and nothing bootstraps twice.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { buildContext, CONTAINERFILE } from './context.js';
import type { Progress } from './progress.js';
import { LABEL_IMAGE, type RootfsRecipe } from './recipes.js';

const run = promisify(execFile);
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_BASE_IMAGE = 'docker.io/library/debian:{suite}-slim';
const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function tryPull(engine: ContainerEngine, ref: string, progress: Progress): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000).unref());
  const pull = engine
    .pullImage(ref, (l) => progress.line(l))
    .then(() => true)
    .catch(() => false);
  return Promise.race([pull, timeout]);
}

async function fromRegistry(engine: ContainerEngine, recipe: RootfsRecipe, ref: string, progress: Progress) {
  const containerfile = [
    `FROM ${ref}`,
    'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\',
    `  ${recipe.packages.join(' ')} && rm -rf /var/lib/apt/lists/*`,
    '',
  ].join('\n');
  await engine.buildImage({
    context: buildContext({ containerfile, files: {} }),
    dockerfile: CONTAINERFILE,
    tag: recipe.tag,
    labels: { [LABEL_IMAGE]: 'rootfs' },
    onOutput: (l) => progress.line(l),
  });
}

/** debootstrap into a temp dir, tar it to `<cache>/rootfs/<hash>.tar` atomically; returns the path. */
export async function bootstrapTarball(
  recipe: RootfsRecipe,
  cacheDir: string,
  progress: Progress,
): Promise<string> {
  const dir = join(cacheDir, 'rootfs');
  const tarball = join(dir, `${recipe.tag.split(':')[1]}.tar`);
  if (existsSync(tarball)) return tarball;
  if (process.getuid?.() !== 0) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      'No image registry is reachable, and bootstrapping a Debian base with debootstrap needs root.',
      'Run `sudo corral image build <agent>` once (the result is cached), or set base_image to an image your registry serves.',
    );
  }
  await mkdir(dir, { recursive: true });
  const root = await mkdtemp(join(tmpdir(), 'corral-rootfs-'));
  const partial = `${tarball}.${process.pid}.partial`;
  try {
    await run(
      'debootstrap',
      ['--variant=minbase', `--include=${recipe.packages.join(',')}`, recipe.suite, root, DEBIAN_MIRROR],
      { maxBuffer: 256 * 1024 * 1024 },
    ).catch((e: { stdout?: string; stderr?: string; code?: string }) => {
      if (e.code === 'ENOENT') {
        throw new CorralError(
          'IMAGE_BUILD_FAILED',
          'debootstrap is not installed.',
          'Install it: sudo apt-get install -y debootstrap',
        );
      }
      const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15);
      for (const l of out) progress.line(l);
      throw new CorralError(
        'IMAGE_BUILD_FAILED',
        `debootstrap ${recipe.suite} failed:\n  ${out.join('\n  ')}`,
        `Check that ${DEBIAN_MIRROR} is reachable.`,
      );
    });
    // Package caches are dead weight in every image built on top.
    await run('sh', [
      '-c',
      'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/*.log',
      'sh',
      root,
    ]);
    await run('tar', ['-C', root, '--numeric-owner', '-cf', partial, '.']);
    await rename(partial, tarball);
    return tarball;
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

export async function ensureRootfs(
  engine: ContainerEngine,
  recipe: RootfsRecipe,
  opts: { cacheDir: string; baseImage?: string; progress: Progress },
): Promise<boolean> {
  if (await engine.imageExists(recipe.tag)) return false;
  const ref = (opts.baseImage ?? DEFAULT_BASE_IMAGE).replace('{suite}', recipe.suite);
  if (await tryPull(engine, ref, opts.progress)) {
    await fromRegistry(engine, recipe, ref, opts.progress);
    return true;
  }
  opts.progress.line(`${ref} is not reachable; bootstrapping Debian ${recipe.suite} with debootstrap`);
  const tarball = await bootstrapTarball(recipe, opts.cacheDir, opts.progress);
  await engine.importImage(createReadStream(tarball), recipe.tag, [
    PATH_ENV,
    'CMD ["/bin/bash"]',
    `LABEL ${LABEL_IMAGE}=rootfs`,
  ]);
  return true;
}
