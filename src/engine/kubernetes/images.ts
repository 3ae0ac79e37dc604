/**
 * Images for the cluster. corral builds its images with the local engine (Podman or Docker) as
 * everywhere; a cluster on this machine gets each one imported into its containerd
 * (`podman save` → `ctr -n k8s.io images import`), once per content-addressed tag; any other
 * cluster pulls them from `kubernetes.registry`, where corral pushes each one unless it is there.
 */
import { spawn } from 'node:child_process';
import { CorralError } from '../../errors.js';
import type { ContainerEngine } from '../types.js';

export interface ImportTarget {
  /** containerd's socket of the local cluster (scripts/kube-up: /run/corral-kube/containerd.sock). */
  containerdSocket: string;
}

/** How containerd names an image the builder saved: Podman's short names are `localhost/…`. */
export function clusterRef(builder: ContainerEngine['kind'], ref: string): string {
  const first = ref.split('/')[0] ?? '';
  const hasDomain =
    ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return ref;
  if (builder === 'podman') return `localhost/${ref}`;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

const imported = new Set<string>();

export async function ensureImported(
  builder: ContainerEngine,
  ref: string,
  target: ImportTarget,
): Promise<string> {
  const name = clusterRef(builder.kind, ref);
  if (imported.has(name)) return name;
  const ctr = ['--address', target.containerdSocket, '-n', 'k8s.io'];
  const listed = await run('ctr', [...ctr, 'images', 'ls', '-q', `name==${name}`]).catch((e: Error) => {
    throw new CorralError(
      'ENGINE_ERROR',
      `Cannot reach the cluster's containerd at ${target.containerdSocket} to import ${ref}: ${e.message}`,
      'Images are imported into a cluster on this machine (scripts/kube-up); for another cluster set kubernetes.registry.',
    );
  });
  if (listed.trim() !== name) {
    const save =
      builder.kind === 'podman'
        ? spawn('podman', ['save', '--format', 'docker-archive', ref], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('docker', ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn('ctr', [...ctr, 'images', 'import', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    save.stdout.pipe(load.stdin);
    const [s, l] = await Promise.all([exit(save), exit(load)]);
    if (s.code !== 0 || l.code !== 0) {
      throw new CorralError(
        'ENGINE_ERROR',
        `Importing ${ref} into the cluster failed: ${(s.code !== 0 ? s.err : l.err).trim().slice(-400)}`,
      );
    }
  }
  imported.add(name);
  return name;
}

function exit(p: ReturnType<typeof spawn>): Promise<{ code: number; err: string }> {
  let err = '';
  p.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => {
    p.on('error', (e) => resolve({ code: -1, err: e.message }));
    p.on('close', (code) => resolve({ code: code ?? -1, err }));
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `exit ${code}`))));
  });
}

/** Where corral's image goes in `registry`: its name under the registry's (Podman's `localhost/` dropped). */
export function registryRef(registry: string, ref: string): string {
  return `${registry.replace(/\/+$/, '')}/${ref.replace(/^localhost\//, '')}`;
}

/** A registry on this machine speaks plain HTTP (as Docker and containerd assume for it). */
function isLocal(registry: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/.test(registry);
}

/** Does the registry have this tag already? (No answer, or one needing a login: push to be sure.) */
async function inRegistry(target: string, local: boolean): Promise<boolean> {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(target);
  if (!m) return false;
  const [, host, name, tag] = m;
  try {
    const r = await fetch(`${local ? 'http' : 'https'}://${host}/v2/${name}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Accept:
          'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      },
      signal: AbortSignal.timeout(5000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

const pushed = new Map<string, Promise<string>>();

/** Push corral's image to `registry` (with the builder's own login for it) unless it is there. */
export function ensurePushed(builder: ContainerEngine, ref: string, registry: string): Promise<string> {
  const target = registryRef(registry, ref);
  let p = pushed.get(target);
  if (!p) {
    p = (async () => {
      const local = isLocal(registry);
      if (await inRegistry(target, local)) return target;
      try {
        if (builder.kind === 'podman') {
          await run('podman', [
            'push',
            '-q',
            ...(local ? ['--tls-verify=false'] : []),
            ref,
            `docker://${target}`,
          ]);
        } else {
          await run('docker', ['tag', ref, target]);
          try {
            await run('docker', ['push', '-q', target]);
          } finally {
            // Only the extra name goes; the image stays under corral's own.
            await run('docker', ['image', 'rm', target]).catch(() => undefined);
          }
        }
      } catch (e) {
        throw new CorralError(
          'ENGINE_ERROR',
          `Pushing ${ref} to ${registry} (kubernetes.registry) failed: ${(e as Error).message.slice(-400)}`,
          `Check that the registry answers and that ${builder.kind} is logged in to it (${builder.kind} login ${registry.split('/')[0]}).`,
        );
      }
      return target;
    })();
    pushed.set(target, p);
    p.catch(() => pushed.delete(target));
  }
  return p;
}

/** The image as the cluster names it: pulled from `registry`, or imported into the local cluster's containerd. */
export function clusterImage(
  builder: ContainerEngine,
  ref: string,
  registry: string | undefined,
  target: ImportTarget,
): Promise<string> {
  return registry ? ensurePushed(builder, ref, registry) : ensureImported(builder, ref, target);
}
