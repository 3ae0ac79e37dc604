/**
 * Copying files out of a container (created or stopped is enough: the engine mounts its volumes
 * for the copy), through the archive endpoint both Docker and Podman's compat API serve. corral
 * reads logins from a profile's state volume this way without starting anything.
 */
import http from 'node:http';
import { apiOptions, type Transport } from './hijack.js';
import { EngineHttpError, query } from './http.js';

/** The raw tar of `path` in the container, or undefined when it does not exist. */
export function getArchive(transport: Transport, id: string, path: string): Promise<Buffer | undefined> {
  const url = `/containers/${encodeURIComponent(id)}/archive${query({ path })}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ ...apiOptions(transport), method: 'GET', path: url }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status === 404) return resolve(undefined);
        if (status >= 200 && status < 300) return resolve(Buffer.concat(chunks));
        reject(new EngineHttpError(status, { message: Buffer.concat(chunks).toString().trim() }, url));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first regular file in a tar, as the archive endpoint returns one file. */
export async function fileFromTar(tar: Buffer): Promise<Buffer | undefined> {
  // Loaded here, not with the engine: only reading a login needs it.
  const ex = (await import('tar-stream')).default.extract();
  let found: Buffer | undefined;
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file' && !found) found = Buffer.concat(chunks);
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return found;
}
