/** Images for a remote engine are built here and copied over: one save streamed into a load. */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CorralError } from '../../errors.js';

/** `podman save`/`docker save` of the builder, streamed into `load`. */
export async function copyImage(
  kind: string,
  ref: string,
  load: (tar: Readable) => Promise<unknown>,
): Promise<void> {
  const cmd = kind === 'podman' ? 'podman' : 'docker';
  const args = kind === 'podman' ? ['save', '--format', 'docker-archive', ref] : ['save', ref];
  const save = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  save.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const saved = new Promise<number>((resolve) => {
    save.on('error', () => resolve(-1));
    save.on('close', (c) => resolve(c ?? -1));
  });
  try {
    await load(save.stdout);
  } catch (e) {
    save.kill();
    throw new CorralError(
      'ENGINE_ERROR',
      `Copying ${ref} to the remote engine failed: ${(e as Error).message}`,
    );
  }
  if ((await saved) !== 0) {
    throw new CorralError(
      'ENGINE_ERROR',
      `Saving ${ref} for the remote engine failed: ${err.trim().slice(-300)}`,
    );
  }
}
