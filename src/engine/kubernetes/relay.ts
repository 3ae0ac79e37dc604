/**
 * A unix socket this process listens on, served inside a pod through the API server's exec stream
 * (the host bridge's way into a sandbox on Kubernetes: never a port, nothing on the node). A small
 * relay runs in the pod under Node, listens on the path there, and carries each connection as
 * frames over the exec's stdin/stdout: [type u8][connection u32][length u32][bytes], types
 * 0 ready, 1 open, 2 data, 3 close.
 */
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { CorralError } from '../../errors.js';
import { startExec } from './channels.js';
import type { Clients } from './client.js';
import { bindsOf } from './copies.js';
import { CONTAINER } from './names.js';

/** The pod's side, for `node -e` (argv[1]: the socket path in the pod). */
const POD_SIDE = `const net=require('net'),fs=require('fs'),p=process.argv[1],cs=new Map();let n=1;
const send=(t,id,b=Buffer.alloc(0))=>{const h=Buffer.alloc(9);h[0]=t;h.writeUInt32BE(id,1);h.writeUInt32BE(b.length,5);process.stdout.write(Buffer.concat([h,b]))};
try{fs.unlinkSync(p)}catch{}
net.createServer(c=>{const id=n++;cs.set(id,c);send(1,id);c.on('data',d=>send(2,id,d));c.on('error',()=>{});c.on('close',()=>{if(cs.delete(id))send(3,id)})})
.listen(p,()=>{fs.chmodSync(p,0o666);send(0,0)});
let buf=Buffer.alloc(0);
process.stdin.on('data',d=>{buf=Buffer.concat([buf,d]);while(buf.length>=9){const l=buf.readUInt32BE(5);if(buf.length<9+l)break;const t=buf[0],id=buf.readUInt32BE(1),b=buf.subarray(9,9+l);buf=buf.subarray(9+l);const c=cs.get(id);if(!c)continue;if(t===2)c.write(b);else{cs.delete(id);c.end()}}});
process.stdin.on('end',()=>{try{fs.unlinkSync(p)}catch{};process.exit(0)});`;

function frame(type: number, id: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h[0] = type;
  h.writeUInt32BE(id, 1);
  h.writeUInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

export interface Relay {
  /** Resolves when the relay's exec has ended (the pod went, the stream broke, or `stop`). */
  ended: Promise<unknown>;
  stop(): Promise<void>;
}

/** Serve `hostSocket` at `inPod` in the pod; resolves once it listens there. */
export async function relaySocket(
  c: Clients,
  ns: string,
  pod: string,
  inPod: string,
  hostSocket: string,
): Promise<Relay> {
  const toPod = new PassThrough();
  const conns = new Map<number, Socket>();
  let ready: () => void = () => {};
  const listening = new Promise<void>((r) => {
    ready = r;
  });
  let buf = Buffer.alloc(0);
  const fromPod = new Writable({
    write(chunk: Buffer, _e, done) {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readUInt32BE(5);
        if (buf.length < 9 + len) break;
        const [type, id, body] = [buf[0], buf.readUInt32BE(1), buf.subarray(9, 9 + len)];
        buf = buf.subarray(9 + len);
        if (type === 0) ready();
        else if (type === 1) {
          const s = connect(hostSocket);
          conns.set(id, s);
          s.on('data', (d: Buffer) => toPod.write(frame(2, id, d)));
          s.on('error', () => s.destroy());
          s.on('close', () => {
            if (conns.delete(id)) toPod.write(frame(3, id));
          });
        } else if (type === 2) conns.get(id)?.write(body);
        else {
          const s = conns.get(id);
          conns.delete(id);
          s?.end();
        }
      }
      done();
    },
  });
  const errors: Buffer[] = [];
  const stderr = new Writable({
    write(chunk: Buffer, _e, done) {
      errors.push(chunk);
      done();
    },
  });
  const { ws, exitCode } = await startExec(
    c,
    ns,
    pod,
    ['node', '-e', POD_SIDE, inPod],
    {},
    {
      stdout: fromPod,
      stderr,
      stdin: toPod,
      tty: false,
    },
  );
  const ended = exitCode.then((code) => {
    throw new CorralError(
      'ENGINE_ERROR',
      `The host bridge's relay in pod ${pod} ended (${code}): ${Buffer.concat(errors).toString().trim().slice(-300)}`,
    );
  });
  ended.catch(() => {});
  await Promise.race([listening, ended]);
  // Its connections end with it: the pod side's sockets are gone, so are the host side's.
  void exitCode.then(() => {
    for (const s of conns.values()) s.destroy();
  });
  return {
    ended: exitCode,
    stop: async () => {
      for (const s of conns.values()) s.destroy();
      toPod.end();
      await Promise.race([exitCode, new Promise((r) => setTimeout(r, 2000))]);
      ws.close();
    },
  };
}

/**
 * A relay kept up until its stop, however long the bridge behind it lives (a detached run's):
 * when its exec ends without a stop (the gateway pod was run again after it died, the API server
 * dropped the stream), it is made again, once a second, in whichever pod has the folder then.
 * The first one must succeed: a run does not start without its bridge.
 */
export async function keptRelay(open: () => Promise<Relay>, retryMs = 1000): Promise<() => Promise<void>> {
  let current = await open();
  let stopped = false;
  let wake: () => void = () => {};
  const stopping = new Promise<void>((r) => {
    wake = r;
  });
  const kept = (async () => {
    while (!stopped) {
      await Promise.race([current.ended, stopping]);
      while (!stopped) {
        const next = await open().catch(() => undefined);
        if (next && stopped) await next.stop();
        else if (next) {
          current = next;
          break;
        } else await Promise.race([new Promise((r) => setTimeout(r, retryMs)), stopping]);
      }
    }
  })();
  return async () => {
    stopped = true;
    wake();
    await kept;
    await current.stop();
  };
}

/**
 * A running pod of corral's that has `path`'s folder mounted writable (the gateway's socket folder),
 * and where the folder is in it.
 */
export async function podWith(
  c: Clients,
  ns: string,
  path: string,
): Promise<{ pod: string; inPod: string } | undefined> {
  const pods = await c.core.listNamespacedPod({
    namespace: ns,
    labelSelector: 'app.kubernetes.io/managed-by=corral',
  });
  for (const p of pods.items) {
    if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp) continue;
    const binds = bindsOf(p);
    // A node folder, or a copy of the host folder (no node folders: copies.ts).
    const volume = p.spec?.volumes?.find(
      (v) => v.hostPath?.path === dirname(path) || binds[v.name] === dirname(path),
    );
    const mount = p.spec?.containers
      .find((x) => x.name === CONTAINER)
      ?.volumeMounts?.find((m) => m.name === volume?.name && !m.readOnly);
    if (mount) return { pod: p.metadata!.name!, inPod: `${mount.mountPath}/${basename(path)}` };
  }
  return undefined;
}
