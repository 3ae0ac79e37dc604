/**
 * Unix sockets between pods without node folders (copies.ts). A pod whose spec asks to
 * `serveSockets` (the gateway) gets a `link` container that serves the sockets of its writable
 * folders on a TCP port; a pod with a copy of such a folder gets a `link` sidecar that makes each
 * socket there again (and any that appears later: the host bridge, a service) and carries every
 * connection to that port. Two NetworkPolicies let exactly those pods meet, on that port alone: the
 * sandbox keeps no other way out, and no other pod (another workspace's) reaches the gateway.
 * The scripts are plain Node run with `node -e` in the serving pod's image (the gateway's has Node).
 */

import { PassThrough, type Readable, Writable } from 'node:stream';
import type { V1Container, V1NetworkPolicy, V1Pod, V1Volume } from '@kubernetes/client-node';
import { startExec } from './channels.js';
import type { Clients } from './client.js';
import { ignore404, statusOf } from './client.js';
import { MANAGED_BY, objectName } from './names.js';

export const LINK_CONTAINER = 'link';
export const LINK_PORT = 7483;
/** On a serving pod: its own name, for the policies' selectors. */
export const LINK_OWNER_LABEL = 'corral.io/link-owner';
/**
 * The copy's link has a folder of its own (no other container mounts it, so the sandbox cannot
 * point its link elsewhere) where corral writes the serving pod's current address.
 */
const TARGET_VOLUME = 'corral-link';
const TARGET_DIR = '/corral-link';
const TARGET_FILE = `${TARGET_DIR}/target`;
const linkedLabel = (owner: string) => `link.corral.io/${owner}`;

/**
 * The serving side. A connection's first line is `?<dir>` (answered with the names of the sockets
 * in that folder, one a line) or `<dir>/<name>` (joined with that socket). Only the folders given
 * on the command line, only plain names.
 */
const SERVER = `const net=require('net'),fs=require('fs'),path=require('path');const[port,...dirs]=process.argv.slice(1);
net.createServer({allowHalfOpen:true},c=>{let b=Buffer.alloc(0);c.on('error',()=>c.destroy());const on=d=>{b=Buffer.concat([b,d]);const i=b.indexOf(10);if(i<0){if(b.length>4096)c.destroy();return}
c.off('data',on);const line=b.subarray(0,i).toString(),rest=b.subarray(i+1);
if(line[0]==='?'){const dir=line.slice(1);if(!dirs.includes(dir))return c.destroy();let names=[];try{names=fs.readdirSync(dir,{withFileTypes:true}).filter(e=>e.isSocket()).map(e=>e.name)}catch{}return c.end(names.join('\\n')+'\\n')}
const dir=path.dirname(line),name=path.basename(line);if(!dirs.includes(dir)||!/^[\\w.-]+$/.test(name))return c.destroy();
const u=net.connect({path:line,allowHalfOpen:true});u.on('error',()=>c.destroy());c.on('close',()=>u.destroy());if(rest.length)u.write(rest);c.pipe(u);u.pipe(c)};c.on('data',on)}).listen(+port,'0.0.0.0');
process.on('SIGTERM',()=>process.exit(0));`;

/**
 * The copy's side: `host port local=remote…`; looks for new sockets every second. The serving pod's
 * address is read again for every connection from TARGET_FILE when corral has written one there
 * (a gateway run again is a new pod with a new address: retargetLinks), else `host`.
 */
const CLIENT = `const net=require('net'),fs=require('fs');const[host,port,...pairs]=process.argv.slice(1);const served=new Set();
const to=()=>{try{const t=fs.readFileSync('${TARGET_FILE}','utf8').trim();if(/^[0-9a-fA-F.:]+$/.test(t))return t}catch{}return host};
const ask=(dir)=>new Promise(r=>{const c=net.connect(+port,to());let out='';c.on('data',d=>out+=d);c.on('error',()=>r([]));c.on('end',()=>r(out.split('\\n').filter(Boolean)));c.write('?'+dir+'\\n')});
const serve=(local,remote,name)=>{const p=local+'/'+name;try{fs.unlinkSync(p)}catch{}
net.createServer({allowHalfOpen:true},c=>{const u=net.connect({host:to(),port:+port,allowHalfOpen:true});u.setNoDelay(true);u.write(remote+'/'+name+'\\n');u.on('error',()=>c.destroy());c.on('error',()=>u.destroy());c.on('close',()=>u.destroy());c.pipe(u);u.pipe(c)})
.listen(p,()=>{try{fs.chmodSync(p,0o666)}catch{}})};
const look=async()=>{for(const pair of pairs){const[local,remote]=pair.split('=');for(const name of await ask(remote)){if(!/^[\\w.-]+$/.test(name)||served.has(local+'/'+name))continue;served.add(local+'/'+name);serve(local,remote,name)}}};
(async()=>{for(;;){await look().catch(()=>{});await new Promise(r=>setTimeout(r,1000))}})();
process.on('SIGTERM',()=>process.exit(0));`;

/** The serving pod's link container: its writable folders' mounts, served on LINK_PORT. */
export function linkServer(pod: V1Pod, main: V1Container, folders: string[]): V1Container {
  const mounts = (main.volumeMounts ?? []).filter((m) => folders.includes(m.mountPath));
  return {
    name: LINK_CONTAINER,
    image: main.image!,
    imagePullPolicy: main.imagePullPolicy!,
    command: ['node', '-e', SERVER, String(LINK_PORT), ...mounts.map((m) => m.mountPath)],
    securityContext: { ...main.securityContext, readOnlyRootFilesystem: true },
    ports: [{ containerPort: LINK_PORT, protocol: 'TCP' }],
    resources: { requests: { memory: '16Mi', cpu: '5m' }, limits: { memory: '64Mi' } },
    // Writable here: corral changes the copies through this container (host-folders.ts).
    volumeMounts: (pod.spec?.volumes ?? [])
      .filter((v) => v.emptyDir && v.name !== 'corral-fill' && v.name !== TARGET_VOLUME)
      .map((v) => ({
        name: v.name,
        mountPath:
          main.volumeMounts?.find((m) => m.name === v.name && !m.subPath)?.mountPath ??
          `/corral-copy/${v.name}`,
      })),
  };
}

export interface LinkTarget {
  owner: string;
  ip: string;
  image: string;
  pullPolicy: string;
  /** This pod's volume name → the folder in the owner that it is a copy of. */
  folders: { volume: string; local: string; remote: string }[];
}

/** The copy's sidecar (a restartable init step: up before the sandbox, gone with it). */
export function linkClient(t: LinkTarget, securityContext: V1Container['securityContext']): V1Container {
  return {
    name: LINK_CONTAINER,
    image: t.image,
    imagePullPolicy: t.pullPolicy,
    restartPolicy: 'Always',
    command: [
      'node',
      '-e',
      CLIENT,
      t.ip,
      String(LINK_PORT),
      ...t.folders.map((f) => `${f.local}=${f.remote}`),
    ],
    securityContext: { ...securityContext, readOnlyRootFilesystem: true },
    resources: { requests: { memory: '16Mi', cpu: '5m' }, limits: { memory: '64Mi' } },
    volumeMounts: [
      ...t.folders.map((f) => ({ name: f.volume, mountPath: f.local })),
      { name: TARGET_VOLUME, mountPath: TARGET_DIR },
    ],
  };
}

/** The link's own folder (see TARGET_VOLUME). */
export const linkVolume = (): V1Volume => ({
  name: TARGET_VOLUME,
  emptyDir: { medium: 'Memory', sizeLimit: '64Ki' },
});

/**
 * Give a rendered (not yet created) pod its link to the serving pod: asked at start, not at create,
 * because a run creates its sandbox while the gateway is still starting.
 */
export function addLink(pod: V1Pod, t: LinkTarget): void {
  const main = pod.spec!.containers[0]!;
  pod.metadata!.labels = { ...pod.metadata!.labels, ...linkedLabels(t) };
  pod.spec!.initContainers = [...(pod.spec!.initContainers ?? []), linkClient(t, main.securityContext)];
  pod.spec!.volumes = [...(pod.spec!.volumes ?? []), linkVolume()];
}

export function linkedLabels(t: LinkTarget): Record<string, string> {
  return { [linkedLabel(t.owner)]: '1' };
}

/** The two policies of a serving pod: its port open to its linked pods, and their way to it. */
export async function ensureLinkPolicies(c: Clients, ns: string, owner: string): Promise<void> {
  const port = [{ port: LINK_PORT, protocol: 'TCP' }];
  const ownerSel = { matchLabels: { [LINK_OWNER_LABEL]: owner } };
  const linkedSel = { matchLabels: { [linkedLabel(owner)]: '1' } };
  const policies: V1NetworkPolicy[] = [
    {
      metadata: { name: objectName(`corral-link-in-${owner}`), labels: { ...MANAGED_BY } },
      spec: {
        podSelector: ownerSel,
        policyTypes: ['Ingress'],
        ingress: [{ _from: [{ podSelector: linkedSel }], ports: port }],
      },
    },
    {
      metadata: { name: objectName(`corral-link-out-${owner}`), labels: { ...MANAGED_BY } },
      spec: {
        podSelector: linkedSel,
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: ownerSel }], ports: port }],
      },
    },
  ];
  for (const body of policies) {
    await c.net.createNamespacedNetworkPolicy({ namespace: ns, body }).catch((e) => {
      if (statusOf(e) !== 409) throw e;
    });
  }
}

export async function removeLinkPolicies(c: Clients, ns: string, owner: string): Promise<void> {
  for (const name of [`corral-link-in-${owner}`, `corral-link-out-${owner}`]) {
    await ignore404(() => c.net.deleteNamespacedNetworkPolicy({ name: objectName(name), namespace: ns }));
  }
}

/** A shell command in a pod's link container: exit code and stdout. */
export async function inLink(
  c: Clients,
  ns: string,
  pod: string,
  command: string,
  stdin: Readable | null = null,
  /** `$0`, `$1`… of `command`: values never spliced into it. */
  args: string[] = [],
): Promise<{ code: number; out: Buffer }> {
  const out: Buffer[] = [];
  const { exitCode } = await startExec(
    c,
    ns,
    pod,
    ['sh', '-c', command, ...args],
    {},
    {
      stdout: new Writable({
        write(chunk: Buffer, _e, done) {
          out.push(chunk);
          done();
        },
      }),
      stderr: new PassThrough().resume(),
      stdin,
      tty: false,
    },
    LINK_CONTAINER,
  );
  return { code: await exitCode, out: Buffer.concat(out) };
}

/**
 * A pod just started with a link: if its serving pod was run again meanwhile (the link was given
 * the address of the one before), point the links at the new one; pods not yet running when it
 * did were left out by retargetLinks.
 */
export async function followOwner(c: Clients, ns: string, pod: V1Pod): Promise<void> {
  const prefix = linkedLabel('');
  const owner = Object.keys(pod.metadata?.labels ?? {})
    .find((k) => k.startsWith(prefix))
    ?.slice(prefix.length);
  const given = pod.spec?.initContainers?.find((x) => x.name === LINK_CONTAINER)?.command?.[3];
  if (!owner || !given) return;
  const now = await ignore404(() => c.core.readNamespacedPod({ name: owner, namespace: ns }));
  if (now?.status?.podIP && now.status.podIP !== given) await retargetLinks(c, ns, owner);
}

/**
 * Point every running pod linked to `owner` at its current address: a serving pod run again (a
 * gateway restarted) is a new pod with a new IP, and its sandboxes outlive it. Until this is done
 * their link reaches nothing (the old address is no pod's, or a pod the policies keep it from), so
 * a restart fails closed. Pods made before links had their own folder cannot be pointed again.
 */
export async function retargetLinks(c: Clients, ns: string, owner: string): Promise<void> {
  const pod = await ignore404(() => c.core.readNamespacedPod({ name: owner, namespace: ns }));
  const ip = pod?.status?.podIP;
  if (!ip || pod.metadata?.deletionTimestamp) return;
  const linked = await c.core.listNamespacedPod({ namespace: ns, labelSelector: `${linkedLabel(owner)}=1` });
  await Promise.all(
    linked.items
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
      .map((p) =>
        inLink(
          c,
          ns,
          p.metadata!.name!,
          `printf '%s\\n' "$0" > ${TARGET_FILE}.new && mv -f ${TARGET_FILE}.new ${TARGET_FILE}`,
          null,
          [ip],
        ).catch(() => undefined),
      ),
  );
}
