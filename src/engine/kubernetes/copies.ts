/**
 * `kubernetes.node_folders: false`: no pod corral makes has a hostPath volume, so it may run on any
 * node of any cluster. A host folder or file a container would bind-mount becomes a copy: an
 * in-memory emptyDir (keys and logins never reach the node's disk, and go with the pod), filled
 * through the API before the container starts (an init step waits while corral writes a tar into
 * it over exec). Copies are not Secrets on purpose: a Secret volume follows a change only at the
 * kubelet's next sync (a minute), and `corral egress allow` must reach a running gateway at once
 * (host-folders.ts writes through the same exec). Unix sockets in those folders: link.ts.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { CorralError } from '../../errors.js';
import type { Mount } from '../types.js';
import { startExec } from './channels.js';
import type { Clients } from './client.js';

/** On a pod with copies: volume name → the host path it is a copy of (a folder or a file). */
export const BINDS_ANNOTATION = 'corral.io/binds';
export const FILL_CONTAINER = 'fill';
const FILL_DIR = '/corral-fill';
const FILLED = `${FILL_DIR}/.filled`;
/** How long the init step waits for corral to fill it (a start that died leaves no pod hanging). */
const FILL_WAIT_S = 120;

/** Which bind sources are files (mounted by subPath), asked before the pure pod render. */
export async function fileSources(mounts: Mount[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of mounts) {
    if (m.type === 'bind' && (await lstat(m.source).catch(() => undefined))?.isFile()) out.add(m.source);
  }
  return out;
}

/** A bind mount as a copy: its volume (an emptyDir in memory) and its mount (a file: by subPath). */
export function copyMount(m: Mount, name: string, file: boolean): { volume: V1Volume; mount: V1VolumeMount } {
  return {
    volume: { name, emptyDir: { medium: 'Memory' } },
    mount: {
      name,
      mountPath: m.target,
      readOnly: m.readOnly ?? false,
      ...(file ? { subPath: basename(m.source) } : {}),
    },
  };
}

/** The init step that holds the pod until corral has filled its copies (first of its init steps). */
export function fillContainer(
  binds: Record<string, string>,
  image: string,
  pullPolicy: string,
  securityContext: V1Container['securityContext'],
): { container: V1Container; volume: V1Volume } {
  const script = `i=0; while [ ! -e ${FILLED} ]; do i=$((i+1)); [ $i -lt ${FILL_WAIT_S * 10} ] || { echo "corral: nothing filled this pod's copies in ${FILL_WAIT_S} s" >&2; exit 1; }; sleep 0.1; done`;
  return {
    container: {
      name: FILL_CONTAINER,
      image,
      imagePullPolicy: pullPolicy,
      command: ['/bin/sh', '-c', script],
      securityContext: { ...securityContext, readOnlyRootFilesystem: true },
      volumeMounts: [
        { name: 'corral-fill', mountPath: FILL_DIR },
        ...Object.keys(binds).map((v) => ({ name: v, mountPath: `${FILL_DIR}/${v}` })),
      ],
    },
    volume: { name: 'corral-fill', emptyDir: { medium: 'Memory' } },
  };
}

export function bindsOf(pod: V1Pod): Record<string, string> {
  const a = pod.metadata?.annotations?.[BINDS_ANNOTATION];
  return a ? (JSON.parse(a) as Record<string, string>) : {};
}

/** The host paths as one tar: `<volume>/…` for a folder's contents, `<volume>/<name>` for a file. */
export function packBinds(binds: Record<string, string>): Readable {
  const out = new PassThrough();
  void (async () => {
    const { default: tar } = await import('tar-stream');
    const pack = tar.pack();
    // tar-stream v3 streams are streamx, not node streams.
    Readable.from(pack as AsyncIterable<Buffer>).pipe(out);
    const add = async (path: string, name: string): Promise<void> => {
      const st = await lstat(path).catch(() => undefined);
      if (!st) return;
      const mode = st.mode & 0o7777;
      const mtime = st.mtime;
      if (st.isDirectory()) {
        pack.entry({ name, type: 'directory', mode, mtime });
        for (const e of await readdir(path)) await add(join(path, e), `${name}/${e}`);
      } else if (st.isFile()) {
        pack.entry({ name, mode, mtime }, await readFile(path));
      } else if (st.isSymbolicLink()) {
        pack.entry({ name, type: 'symlink', linkname: await readlink(path), mode, mtime });
      }
      // Sockets and devices do not travel: a copied socket file would connect nowhere (link.ts).
    };
    try {
      for (const [volume, source] of Object.entries(binds)) {
        const st = await lstat(source).catch(() => undefined);
        if (st?.isFile())
          pack.entry(
            { name: `${volume}/${basename(source)}`, mode: st.mode & 0o7777 },
            await readFile(source),
          );
        else if (st?.isDirectory()) {
          for (const e of await readdir(source)) await add(join(source, e), `${volume}/${e}`);
        }
      }
      pack.finalize();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return out;
}

/** Wait until the pod's fill step runs, write the copies into it, and let the pod go on. */
export async function fillPod(
  c: Clients,
  ns: string,
  pod: string,
  binds: Record<string, string>,
): Promise<void> {
  const deadline = Date.now() + FILL_WAIT_S * 1000;
  for (;;) {
    const p = await c.core.readNamespacedPod({ name: pod, namespace: ns });
    const s = p.status?.initContainerStatuses?.find((x) => x.name === FILL_CONTAINER);
    if (s?.state?.running) break;
    if (s?.state?.terminated) return; // filled already (another process), or failed: the pod's watch says
    const waiting = s?.state?.waiting;
    if (waiting?.reason && /Err|BackOff|Invalid/.test(waiting.reason)) return; // the watch names it
    if (Date.now() > deadline) throw new CorralError('ENGINE_ERROR', `Pod ${pod} never ran its fill step.`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const err: Buffer[] = [];
  const { exitCode } = await startExec(
    c,
    ns,
    pod,
    ['sh', '-c', `tar -x --no-same-owner -f - -C ${FILL_DIR} && touch ${FILLED}`],
    {},
    {
      stdout: new PassThrough().resume(),
      stderr: new PassThrough().on('data', (d: Buffer) => err.push(d)),
      stdin: packBinds(binds),
      tty: false,
    },
    FILL_CONTAINER,
  );
  const code = await exitCode;
  if (code !== 0) {
    throw new CorralError(
      'ENGINE_ERROR',
      `Copying corral's files into pod ${pod} failed (${code}): ${Buffer.concat(err).toString().trim().slice(-300)}`,
    );
  }
}
