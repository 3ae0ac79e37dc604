/**
 * Building, importing and pulling images over the Docker Engine API (Podman's compat API answers
 * the same paths): streams of JSON progress, where a failure is a message in the stream. Kept
 * apart from docker-api.ts so that file stays about containers.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { CorralError } from '../errors.js';
import { splitTag } from './errors.js';
import { followJsonStream } from './streams.js';
import type { BuildOptions } from './types.js';

export async function buildImage(
  docker: Promise<Docker>,
  opts: BuildOptions,
  imageExists: (tag: string) => Promise<boolean>,
): Promise<void> {
  const stream = await (await docker).buildImage(opts.context, {
    t: opts.tag,
    dockerfile: opts.dockerfile,
    labels: opts.labels,
    nocache: opts.noCache ?? false,
    rm: true,
    forcerm: true,
    ...(opts.buildArgs ? { buildargs: opts.buildArgs } : {}),
    ...(opts.target ? { target: opts.target } : {}),
  });
  await followJsonStream(stream, opts.onOutput, (message) => {
    throw new CorralError('IMAGE_BUILD_FAILED', `Building ${opts.tag} failed: ${message}`);
  });
  // Podman reports some build failures only by not creating the tag.
  if (!(await imageExists(opts.tag))) {
    throw new CorralError('IMAGE_BUILD_FAILED', `Building ${opts.tag} finished without producing the image.`);
  }
}

export async function importImage(
  docker: Promise<Docker>,
  rootfs: Readable,
  tag: string,
  changes: string[],
): Promise<void> {
  const [repo, imageTag] = splitTag(tag);
  const stream = (await (
    await docker
  ).importImage(rootfs, {
    repo,
    tag: imageTag,
    changes,
  } as never)) as unknown as NodeJS.ReadableStream;
  await followJsonStream(stream, undefined, (message) => {
    throw new CorralError('IMAGE_BUILD_FAILED', `Importing ${tag} failed: ${message}`);
  });
}

export async function pullImage(
  docker: Promise<Docker>,
  ref: string,
  onOutput?: (line: string) => void,
): Promise<void> {
  const stream = await (await docker).pull(ref);
  await followJsonStream(stream, onOutput, (message) => {
    throw new CorralError('IMAGE_NOT_FOUND', `Pulling ${ref} failed: ${message}`);
  });
}
