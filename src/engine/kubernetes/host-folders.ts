/**
 * The engine's `hostFolders` without node folders: corral's side of the copies a serving pod (the
 * gateway) has of its folders (copies.ts). New settings are written into the running pod, the
 * audit log and the applied revision are read from it, all over exec into its `link` container,
 * which has every copy writable. When the pod is removed, what it changed in its writable folders
 * (the audit log, a refreshed login) comes back to this machine, so `corral egress log` and the
 * login store still have it after the gateway is gone.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { shellQuote } from '../command-line.js';
import type { ContainerEngine, ContainerSpec } from '../types.js';
import { type Clients, ignore404 } from './client.js';
import { bindsOf, packBinds } from './copies.js';
import { inLink, LINK_CONTAINER, LINK_OWNER_LABEL, type LinkTarget, removeLinkPolicies } from './link.js';
import { CONTAINER } from './names.js';

export interface Owner {
  pod: string;
  ip: string;
  image: string;
  pullPolicy: string;
  /** Where the host folder is in the pod's main container, and in its link container. */
  inMain: string;
  inLink: string;
  readOnly: boolean;
}

/** The running serving pod that has a copy of `hostDir`, and where. */
export async function ownerOf(c: Clients, ns: string, hostDir: string): Promise<Owner | undefined> {
  const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: LINK_OWNER_LABEL });
  for (const p of pods.items) {
    if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp || !p.status.podIP) continue;
    const found = placeIn(p, hostDir);
    if (found) return found;
  }
  return undefined;
}

function placeIn(p: V1Pod, hostDir: string): Owner | undefined {
  const volume = Object.entries(bindsOf(p)).find(([, source]) => source === hostDir)?.[0];
  const container = (name: string) => p.spec?.containers.find((x) => x.name === name);
  const main = container(CONTAINER)?.volumeMounts?.find((m) => m.name === volume && !m.subPath);
  const link = container(LINK_CONTAINER)?.volumeMounts?.find((m) => m.name === volume);
  if (!main || !link) return undefined;
  return {
    pod: p.metadata!.name!,
    ip: p.status?.podIP ?? '',
    image: container(CONTAINER)!.image!,
    pullPolicy: container(CONTAINER)!.imagePullPolicy ?? 'IfNotPresent',
    inMain: main.mountPath,
    inLink: link.mountPath,
    readOnly: main.readOnly ?? false,
  };
}

/** The serving pod (the gateway) of whose folders `spec` mounts copies, if one runs. */
export async function linkTarget(
  c: Clients,
  ns: string,
  spec: ContainerSpec,
): Promise<LinkTarget | undefined> {
  if (spec.serveSockets) return undefined;
  let target: LinkTarget | undefined;
  const owners = (
    await c.core.listNamespacedPod({ namespace: ns, labelSelector: LINK_OWNER_LABEL })
  ).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.podIP);
  for (const [i, m] of spec.mounts.entries()) {
    if (m.type !== 'bind') continue;
    const o = owners.map((p) => placeIn(p, m.source)).find((x) => x !== undefined);
    if (!o || (target && target.owner !== o.pod)) continue;
    target ??= { owner: o.pod, ip: o.ip, image: o.image, pullPolicy: o.pullPolicy, folders: [] };
    target.folders.push({ volume: `v${i}`, local: m.target, remote: o.inMain });
  }
  return target;
}

export function copiedFolders(c: Clients, ns: string): NonNullable<ContainerEngine['hostFolders']> {
  return {
    /** Each file swapped in whole (a rename), so the gateway never reads half a settings file. */
    push: async (dir: string) => {
      const o = await ownerOf(c, ns, dir);
      if (!o) return;
      const d = shellQuote(o.inLink);
      await inLink(
        c,
        ns,
        o.pod,
        `t=$(mktemp -d ${d}/.corral-push.XXXXXX) && tar -x --no-same-owner --strip-components=1 -f - -C "$t" && ` +
          `for f in "$t"/* "$t"/.[!.]*; do [ -f "$f" ] && mv -f "$f" ${d}/; done; rm -rf "$t"`,
        packBinds({ p: dir }),
      );
    },
    read: async (path: string, from = 0, max?: number) => {
      const o = await ownerOf(c, ns, dirname(path));
      if (!o) {
        // Gone: what it wrote came back when it was removed.
        const b = await readFile(path).catch(() => undefined);
        return b?.subarray(from, max === undefined ? undefined : from + max).toString();
      }
      const f = shellQuote(join(o.inLink, basename(path)));
      const cut = max === undefined ? '' : ` | head -c ${Math.max(0, Math.floor(max))}`;
      const r = await inLink(c, ns, o.pod, `test -f ${f} && tail -c +${Math.floor(from) + 1} ${f}${cut}`);
      return r.code === 0 ? r.out.toString() : undefined;
    },
    size: async (path: string) => {
      const o = await ownerOf(c, ns, dirname(path));
      if (!o) return (await stat(path).catch(() => undefined))?.size;
      const f = shellQuote(join(o.inLink, basename(path)));
      const r = await inLink(c, ns, o.pod, `test -f ${f} && wc -c < ${f}`);
      const n = Number(r.out.toString().trim());
      return r.code === 0 && Number.isFinite(n) ? n : undefined;
    },
    /** In place (the inode stays): containers mount this file by itself. */
    rewriteMounted: async (path: string, content: Buffer) => {
      const o = await ownerOf(c, ns, dirname(path));
      if (!o) return;
      // Over the old bytes, then cut to length (as remote/files.ts writeInPlace): never empty to a reader.
      const p = shellQuote(join(o.inLink, basename(path)));
      await inLink(
        c,
        ns,
        o.pod,
        `dd of=${p} conv=notrunc status=none && truncate -s ${content.length} ${p}`,
        Readable.from([content]),
      );
    },
    remove: async (path: string) => {
      const o = await ownerOf(c, ns, dirname(path));
      if (o) await inLink(c, ns, o.pod, `rm -f ${shellQuote(join(o.inLink, basename(path)))}`);
    },
    socketReady: async (path: string) => {
      const o = await ownerOf(c, ns, dirname(path));
      if (!o) return false;
      return (await inLink(c, ns, o.pod, `test -S ${shellQuote(join(o.inLink, basename(path)))}`)).code === 0;
    },
    serveSocket: async () => {
      throw new Error('on Kubernetes the engine relays sockets (relaySocket)');
    },
  };
}

/** Delete a pod (`del`); if it serves its folders, bring back what it wrote first and drop its policies. */
export async function deleteServing(
  c: Clients,
  ns: string,
  id: string,
  del: () => Promise<void>,
): Promise<void> {
  const pod = await ignore404(() => c.core.readNamespacedPod({ name: id, namespace: ns }));
  const serving = Boolean(pod?.metadata?.labels?.[LINK_OWNER_LABEL]);
  if (pod && serving) await copyBack(c, ns, pod).catch(() => undefined);
  await del();
  if (serving) await removeLinkPolicies(c, ns, id);
}

/**
 * Before a serving pod goes: the files it changed in its writable copies (newer than the pod) come
 * back to the host folders they are copies of. Only regular files, only inside those folders.
 */
export async function copyBack(c: Clients, ns: string, pod: V1Pod): Promise<void> {
  const name = pod.metadata?.name;
  if (!name || pod.status?.phase !== 'Running') return;
  const since = Math.floor(new Date(pod.metadata?.creationTimestamp ?? 0).getTime() / 1000);
  for (const source of Object.values(bindsOf(pod))) {
    const o = placeIn(pod, source);
    if (!o || o.readOnly) continue;
    const d = shellQuote(o.inLink);
    const r = await inLink(
      c,
      ns,
      name,
      `cd ${d} && find . -type f -newermt @${since} ! -name '.corral-push*' -print0 | tar -c --null -T - -f -`,
    ).catch(() => undefined);
    if (r?.code === 0 && r.out.length) await unpackFiles(r.out, source);
  }
}

async function unpackFiles(tar: Buffer, into: string): Promise<void> {
  const { default: tarStream } = await import('tar-stream');
  const ex = tarStream.extract();
  const done = (async () => {
    for await (const entry of ex as AsyncIterable<
      { header: { name: string; type: string; mode?: number } } & AsyncIterable<Buffer>
    >) {
      const chunks: Buffer[] = [];
      for await (const ch of entry) chunks.push(ch);
      const rel = normalize(entry.header.name);
      if (entry.header.type !== 'file' || rel.startsWith('..') || rel.startsWith('/')) continue;
      await mkdir(dirname(join(into, rel)), { recursive: true });
      await writeFile(join(into, rel), Buffer.concat(chunks), { mode: (entry.header.mode ?? 0o600) & 0o777 });
    }
  })();
  ex.end(tar);
  await done;
}
