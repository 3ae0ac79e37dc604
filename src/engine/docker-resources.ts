/**
 * Images (inspection), volumes and networks over the Docker Engine API (Podman's compat API answers
 * the same paths). Kept apart from docker-api.ts so that file stays about containers.
 */
import type Docker from 'dockerode';
import { exists, ignoreMissing, statusOf } from './errors.js';
import type { ImageDetails } from './types.js';

type Request = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

export function volumeExists(request: Request, name: string): Promise<boolean> {
  return exists(() => request('GET', `/volumes/${encodeURIComponent(name)}`));
}

/** The volume's Mountpoint, when the engine listens on a local socket (see ContainerEngine). */
export async function volumePath(
  request: Request,
  endpoint: string,
  name: string,
): Promise<string | undefined> {
  if (!endpoint.startsWith('unix://')) return undefined;
  try {
    const v = await request<{ Mountpoint?: string }>('GET', `/volumes/${encodeURIComponent(name)}`);
    return v.Mountpoint?.startsWith('/') ? v.Mountpoint : undefined;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

export async function createVolume(request: Request, name: string, labels: Record<string, string>) {
  await request('POST', '/volumes/create', { Name: name, Labels: labels });
}

export async function removeVolume(request: Request, name: string): Promise<void> {
  await ignoreMissing(() => request('DELETE', `/volumes/${encodeURIComponent(name)}`));
}

/**
 * Every `key=value` (or bare `key`) filter holds for these labels. Docker ANDs label filters, but
 * Podman 4.3's compat API ORs them for volumes (seen: [workspace=W, role=service-data, service=S]
 * listed W's home and mask volumes too, and stopping one service removed them), so lists are
 * checked again here and callers can trust the AND.
 */
export function hasLabels(labels: Record<string, string>, filters: readonly string[]): boolean {
  return filters.every((f) => {
    const at = f.indexOf('=');
    return at < 0 ? f in labels : labels[f.slice(0, at)] === f.slice(at + 1);
  });
}

export async function listVolumes(docker: Promise<Docker>, labelFilter: string[]) {
  const res = await (await docker).listVolumes({ filters: { label: labelFilter } });
  return (res.Volumes ?? [])
    .map((v) => ({ name: v.Name, labels: v.Labels ?? {} }))
    .filter((v) => hasLabels(v.labels, labelFilter));
}

export function networkExists(request: Request, name: string): Promise<boolean> {
  return exists(() => request('GET', `/networks/${encodeURIComponent(name)}`));
}

export async function createNetwork(
  docker: Promise<Docker>,
  name: string,
  opts: { internal?: boolean; labels: Record<string, string> },
): Promise<void> {
  await (await docker).createNetwork({ Name: name, Internal: opts.internal ?? false, Labels: opts.labels });
}

export async function removeNetwork(request: Request, name: string): Promise<void> {
  await ignoreMissing(() => request('DELETE', `/networks/${encodeURIComponent(name)}`));
}

export async function listNetworks(docker: Promise<Docker>, labelFilter: string[]) {
  const nets = await (await docker).listNetworks({ filters: { label: labelFilter } });
  return nets
    .map((n) => ({ name: n.Name, labels: n.Labels ?? {} }))
    .filter((n) => hasLabels(n.labels, labelFilter));
}

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
