/**
 * Unix sockets between pods without node folders (copies.ts). A pod whose spec asks to
 * `serveSockets` (the gateway) gets a `link` container that serves the sockets of its writable
 * folders on a TCP port; a pod with a copy of such a folder gets a `link` sidecar that makes each
 * socket there again (and any that appears later: the host bridge, a service) and carries every
 * connection to that port. Two NetworkPolicies let exactly those pods meet, on that port alone: the
 * sandbox keeps no other way out, and no other pod (another workspace's) reaches the gateway.
 * The scripts are plain Node run with `node -e` in the serving pod's image (the gateway's has Node).
 */
import type { V1Container, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import type { Clients } from './client.js';
import { ignore404, statusOf } from './client.js';
import { MANAGED_BY, objectName } from './names.js';

export const LINK_CONTAINER = 'link';
export const LINK_PORT = 7483;
/** On a serving pod: its own name, for the policies' selectors. */
export const LINK_OWNER_LABEL = 'corral.io/link-owner';
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

/** The copy's side: `host port local=remote…`; looks for new sockets every second. */
const CLIENT = `const net=require('net'),fs=require('fs');const[host,port,...pairs]=process.argv.slice(1);const served=new Set();
const ask=(dir)=>new Promise(r=>{const c=net.connect(+port,host);let out='';c.on('data',d=>out+=d);c.on('error',()=>r([]));c.on('end',()=>r(out.split('\\n').filter(Boolean)));c.write('?'+dir+'\\n')});
const serve=(local,remote,name)=>{const p=local+'/'+name;try{fs.unlinkSync(p)}catch{}
net.createServer({allowHalfOpen:true},c=>{const u=net.connect({host,port:+port,allowHalfOpen:true});u.setNoDelay(true);u.write(remote+'/'+name+'\\n');u.on('error',()=>c.destroy());c.on('error',()=>u.destroy());c.on('close',()=>u.destroy());c.pipe(u);u.pipe(c)})
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
      .filter((v) => v.emptyDir && v.name !== 'corral-fill')
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
    volumeMounts: t.folders.map((f) => ({ name: f.volume, mountPath: f.local })),
  };
}

/**
 * Give a rendered (not yet created) pod its link to the serving pod: asked at start, not at create,
 * because a run creates its sandbox while the gateway is still starting.
 */
export function addLink(pod: V1Pod, t: LinkTarget): void {
  const main = pod.spec!.containers[0]!;
  pod.metadata!.labels = { ...pod.metadata!.labels, ...linkedLabels(t) };
  pod.spec!.initContainers = [...(pod.spec!.initContainers ?? []), linkClient(t, main.securityContext)];
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
