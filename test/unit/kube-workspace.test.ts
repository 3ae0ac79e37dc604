import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { excluded, Without } from '../../src/engine/kubernetes/files.js';
import { registryRef } from '../../src/engine/kubernetes/images.js';
import type { FileTree, Manifest } from '../../src/engine/remote/sync.js';
import { cloneInit } from '../../src/sandbox/clone.js';

/** A tree that records what it was asked to pack and remove. */
function fakeTree(files: string[]) {
  const calls: { pack?: string[] | undefined; remove?: string[] } = {};
  const tree: FileTree = {
    label: 'fake',
    manifest: async () => new Map(files.map((f) => [f, 'h'])) as Manifest,
    pack: async (paths) => {
      calls.pack = paths;
      return Readable.from([]);
    },
    unpack: async () => {},
    remove: async (paths) => {
      calls.remove = paths;
    },
  };
  return { tree, calls };
}

describe('the Kubernetes upload workspace', () => {
  it('leaves out hidden and masked paths, and what is inside them', () => {
    expect(excluded('.env', ['.env'])).toBe(true);
    expect(excluded('node_modules/x/y.js', ['node_modules'])).toBe(true);
    expect(excluded('node_modules2/y.js', ['node_modules'])).toBe(false);
    expect(excluded('src/.env', ['.env'])).toBe(false);
  });

  it('a tree without them neither lists, packs (even all of it) nor removes them', async () => {
    const { tree, calls } = fakeTree(['a.txt', '.env', 'node_modules/m.js', 'src/b.txt']);
    const w = new Without(tree, ['.env', 'node_modules'], 'the copy');
    expect(w.label).toBe('the copy');
    expect([...(await w.manifest())!.keys()].sort()).toEqual(['a.txt', 'src/b.txt']);
    await w.pack();
    // "All of it" is the listed files, never a plain tar of the folder.
    expect(calls.pack?.sort()).toEqual(['a.txt', 'src/b.txt']);
    await w.remove(['a.txt', '.env']);
    expect(calls.remove).toEqual(['a.txt']);
  });

  it("names corral's images under the registry", () => {
    expect(registryRef('reg.example:5000/team/', 'localhost/corral/claude:abc')).toBe(
      'reg.example:5000/team/corral/claude:abc',
    );
    expect(registryRef('127.0.0.1:5000', 'corral/claude:abc')).toBe('127.0.0.1:5000/corral/claude:abc');
  });

  it('git: clones only into a workspace without one, and forgets the URL before the agent runs', () => {
    const script = cloneInit().join('\n');
    expect(script).toContain('if [ ! -e /workspace/.git ]');
    expect(script).toMatch(/unset CORRAL_CLONE_URL$/);
  });
});
