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
import { CommandFailed, runLogged } from './exec.js';
import type { Progress } from './progress.js';
import { LABEL_IMAGE, type RootfsRecipe } from './recipes.js';

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_BASE_IMAGE = 'docker.io/library/debian:{suite}-slim';
/** A reachable registry answers within this; an unreachable one must not hold up the fallback. */
export const PULL_TIMEOUT_MS = 5_000;
const IMPORT_CHANGES = [
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["/bin/bash"]',
  `LABEL ${LABEL_IMAGE}=rootfs`,
];

/** The cached tarball for a recipe: `<cacheDir>/rootfs/<hash>.tar`. */
export function rootfsTarballPath(recipe: RootfsRecipe, cacheDir: string): string {
  return join(cacheDir, 'rootfs', `${recipe.tag.split(':').at(-1)}.tar`);
}

async function tryPull(engine: ContainerEngine, ref: string, progress: Progress): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PULL_TIMEOUT_MS);
  });
  const pull = engine
    .pullImage(ref, (l) => progress.line(l))
    .then(() => true)
    .catch((e: Error) => {
      progress.line(e.message.split('\n')[0]!);
      return false;
    });
  try {
    return await Promise.race([pull, timeout]);
  } finally {
    clearTimeout(timer);
  }
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

/** How to run a command as root: directly, through passwordless sudo, or not at all. */
async function asRoot(): Promise<string[]> {
  if (process.getuid?.() === 0) return [];
  try {
    await promisify(execFile)('sudo', ['-n', 'true']);
    return ['sudo', '-n'];
  } catch {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      'No image registry is reachable, and bootstrapping a Debian base with debootstrap needs root.',
      'Run `sudo corral image build <agent>` once (the result is cached), or set base_image to an image your registry serves.',
    );
  }
}

/** debootstrap into a temp dir, tar it to `<cache>/rootfs/<hash>.tar` atomically; returns the path. */
export async function bootstrapTarball(
  recipe: RootfsRecipe,
  cacheDir: string,
  progress: Progress,
): Promise<string> {
  const tarball = rootfsTarballPath(recipe, cacheDir);
  if (existsSync(tarball)) return tarball;
  const root = await asRoot();
  const sh = (cmd: string, args: string[]) =>
    runLogged(root[0] ?? cmd, [...root.slice(1), ...(root.length ? [cmd] : []), ...args], {
      onLine: (l) => progress.line(l),
    });
  await mkdir(join(cacheDir, 'rootfs'), { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'corral-rootfs-'));
  // Written under a temporary name and renamed: an interrupted run never leaves a tarball that looks complete.
  const partial = `${tarball}.${process.pid}.partial`;
  try {
    await sh('debootstrap', [
      '--variant=minbase',
      `--include=${recipe.packages.join(',')}`,
      recipe.suite,
      dir,
      DEBIAN_MIRROR,
    ]).catch((e: unknown) => {
      if (e instanceof CommandFailed && e.notFound) {
        throw new CorralError(
          'IMAGE_BUILD_FAILED',
          'debootstrap is not installed.',
          'Install it: sudo apt-get install -y debootstrap',
        );
      }
      const tail = e instanceof CommandFailed ? e.tail.slice(-15) : [];
      throw new CorralError(
        'IMAGE_BUILD_FAILED',
        `debootstrap ${recipe.suite} failed: ${(e as Error).message}\n  ${tail.join('\n  ')}`,
        `Check that ${DEBIAN_MIRROR} is reachable.`,
      );
    });
    // Package caches and logs are dead weight in every image built on top.
    await sh('sh', [
      '-c',
      'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/debootstrap',
      'sh',
      dir,
    ]);
    // mkdtemp made the folder 0700, and it is the image's `/`: overlay storage hides that, but vfs
    // (rootless Podman) applies it, and then no user but root can reach anything.
    await sh('chmod', ['0755', dir]);
    await sh('tar', ['-C', dir, '--numeric-owner', '-cf', partial, '.']);
    await rename(partial, tarball);
    return tarball;
  } finally {
    await sh('rm', ['-rf', dir, partial]).catch(() => rm(dir, { recursive: true, force: true }));
  }
}

/** Make sure the engine has the rootfs image; returns whether anything was done. */
export async function ensureRootfs(
  engine: ContainerEngine,
  recipe: RootfsRecipe,
  opts: { cacheDir: string; baseImage?: string; progress: Progress },
): Promise<boolean> {
  if (await engine.imageExists(recipe.tag)) return false;
  const tarball = rootfsTarballPath(recipe, opts.cacheDir);
  // A tarball cached for another engine beats any registry: importing it takes seconds.
  if (!existsSync(tarball)) {
    const ref = (opts.baseImage ?? DEFAULT_BASE_IMAGE).replaceAll('{suite}', recipe.suite);
    if (await tryPull(engine, ref, opts.progress)) {
      await fromRegistry(engine, recipe, ref, opts.progress);
      return true;
    }
    opts.progress.line(`${ref} is not reachable; bootstrapping Debian ${recipe.suite} with debootstrap`);
    await bootstrapTarball(recipe, opts.cacheDir, opts.progress);
  }
  opts.progress.line(`importing ${tarball}`);
  await engine.importImage(createReadStream(tarball), recipe.tag, IMPORT_CHANGES);
  return true;
}
