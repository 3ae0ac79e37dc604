/**
 * A login file read from a state volume's folder on the host: found, missing (an answer), or
 * "cannot tell" (the caller asks the engine) for anything the agent could have planted to make
 * corral read outside the volume: a link as the file, a link as a folder, a non-file, a huge file.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readVolumeFileOnHost } from '../../src/auth/volume-host.js';
import type { ContainerEngine } from '../../src/engine/index.js';

const REL = '.claude/.credentials.json';
const onLinux = process.platform === 'linux';

describe.skipIf(!onLinux)('readVolumeFileOnHost', () => {
  let root: string;
  let outside: string;
  const engine = (path: string | undefined) =>
    ({ volumePath: async () => path }) as unknown as ContainerEngine;
  const read = (rel = REL, path = root) => readVolumeFileOnHost(engine(path), 'vol', rel);

  beforeEach(async () => {
    const base = await mkdtemp(join(tmpdir(), 'corral-volhost-'));
    root = join(base, '_data');
    outside = join(base, 'outside');
    await mkdir(join(root), { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, 'secret.json'), '{"host":"secret"}');
  });

  it('reads the file when it is there', async () => {
    await mkdir(join(root, '.claude'));
    await writeFile(join(root, REL), '{"login":1}');
    expect(await read()).toEqual({ text: '{"login":1}' });
  });

  it('answers "no file" when the file or its folder is missing', async () => {
    expect(await read()).toEqual({ text: undefined });
    await mkdir(join(root, '.claude'));
    expect(await read()).toEqual({ text: undefined });
  });

  it('cannot tell (asks the engine) without a volume folder on this machine', async () => {
    expect(await readVolumeFileOnHost(engine(undefined), 'vol', REL)).toBeUndefined();
    expect(await read(REL, join(root, 'no-such-volume'))).toBeUndefined();
    expect(await readVolumeFileOnHost({} as ContainerEngine, 'vol', REL)).toBeUndefined();
  });

  it('never follows a link the agent planted, as the file or as a folder', async () => {
    await mkdir(join(root, '.claude'));
    await symlink(join(outside, 'secret.json'), join(root, REL));
    expect(await read()).toBeUndefined();
    await symlink(outside, join(root, 'linked'));
    expect(await read('linked/secret.json')).toBeUndefined();
  });

  it('refuses a folder as the file, a huge file, and a path that climbs out', async () => {
    await mkdir(join(root, REL), { recursive: true });
    expect(await read()).toBeUndefined();
    await writeFile(join(root, 'big.json'), Buffer.alloc(300 * 1024, 'a'));
    expect(await read('big.json')).toBeUndefined();
    expect(await read('../outside/secret.json')).toBeUndefined();
  });

  it('refuses a FIFO the agent made as the file without hanging on it', async () => {
    await mkdir(join(root, '.claude'));
    execFileSync('mkfifo', [join(root, REL)]);
    expect(await read()).toBeUndefined();
  });

  it("never reads this machine's folder for a remote engine (its Mountpoint is a path there)", async () => {
    await mkdir(join(root, '.claude'));
    await writeFile(join(root, REL), '{"login":"this-machine"}');
    const remote = { remote: 'ssh://u@there', volumePath: async () => root } as unknown as ContainerEngine;
    expect(await readVolumeFileOnHost(remote, 'vol', REL)).toBeUndefined();
  });
});
