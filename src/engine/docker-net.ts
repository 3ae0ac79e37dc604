/**
 * Image inspection and network attach/detach over the Docker Engine API (Podman's compat API
 * answers the same paths). Kept apart from docker-api.ts so that file stays about containers.
 */
import { statusOf } from './errors.js';
import type { ImageDetails } from './types.js';

type Request = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

interface ImageInspect {
  Config?: { ExposedPorts?: Record<string, unknown> | null; Volumes?: Record<string, unknown> | null };
}

export async function inspectImage(request: Request, ref: string): Promise<ImageDetails | undefined> {
  let img: ImageInspect;
  try {
    img = await request<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`);
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
  const exposed = Object.keys(img.Config?.ExposedPorts ?? {})
    .filter((k) => !k.endsWith('/udp'))
    .map((k) => Number.parseInt(k, 10))
    .filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
  return {
    exposedPorts: [...new Set(exposed)].sort((a, b) => a - b),
    volumes: Object.keys(img.Config?.Volumes ?? {}).sort(),
  };
}

const message = (e: unknown) => `${(e as { json?: { message?: string } }).json?.message ?? ''} ${e}`;

export async function connectNetwork(
  request: Request,
  network: string,
  container: string,
  aliases: string[] = [],
): Promise<void> {
  try {
    await request('POST', `/networks/${encodeURIComponent(network)}/connect`, {
      Container: container,
      ...(aliases.length ? { EndpointConfig: { Aliases: aliases } } : {}),
    });
  } catch (e) {
    // Docker says "endpoint … already exists", Podman "already connected": both mean done.
    if (/already (exists|connected)/i.test(message(e))) return;
    throw e;
  }
}

export async function disconnectNetwork(request: Request, network: string, container: string): Promise<void> {
  try {
    await request('POST', `/networks/${encodeURIComponent(network)}/disconnect`, {
      Container: container,
      Force: true,
    });
  } catch (e) {
    if (statusOf(e) === 404 || /not connected|no such|not found/i.test(message(e))) return;
    throw e;
  }
}
