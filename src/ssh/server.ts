/**
 * The host-side SSH server editors connect to (VS Code Remote-SSH, Zed, plain ssh/scp/sftp). It
 * listens on 127.0.0.1 only. A login needs one of the authorised public keys (keys.ts) and a user
 * name that is a running corral agent sandbox (`corral-<workspace>-<agent>`); everything else is
 * refused. Sessions and forwards become execs in that sandbox as its agent user (never root): the
 * sandbox gets no new network interface, port or mount for SSH.
 */
import { timingSafeEqual } from 'node:crypto';
import ssh2, { type AuthContext, type Connection } from 'ssh2';
import type { ContainerEngine } from '../engine/index.js';
import { WORKSPACE_DIR } from '../images/recipes.js';
import { LABELS } from '../workspace/identity.js';
import { relayTcp } from './forward.js';
import { authorizedKeys } from './keys.js';
import { type SandboxExec, serveSession } from './session.js';

export interface SshServerOptions {
  engine: ContainerEngine;
  env: NodeJS.ProcessEnv;
  /** The host key (OpenSSH private key text). */
  hostKey: string;
  /** corral's own client key (public line), authorised besides the user's keys. */
  clientKeyPub: string;
  /** 0: any free port. */
  port: number;
  log: (line: string) => void;
}

export interface SshServer {
  port: number;
  close(): Promise<void>;
}

interface Target {
  id: string;
  name: string;
  user: string;
}

/** A container name (the labels below, not the name, decide whether it is a corral sandbox). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;

/** The running agent sandbox this user name selects, or undefined (refused). */
async function findTarget(engine: ContainerEngine, username: string): Promise<Target | undefined> {
  if (!NAME.test(username)) return undefined;
  const d = await engine.inspect(username).catch(() => undefined);
  if (!d || d.name.replace(/^\//, '') !== username || !d.running) return undefined;
  if (d.labels[LABELS.managed] !== 'true' || d.labels[LABELS.role] !== 'agent') return undefined;
  // Sessions run as the sandbox's own user; a sandbox without one (root) is not served.
  const uid = d.user.split(':')[0] ?? '';
  if (!uid || uid === '0' || uid === 'root') return undefined;
  return { id: d.id, name: username, user: d.user };
}

function execFor(engine: ContainerEngine, t: Target): SandboxExec {
  return async (cmd, opts) => {
    const ex = await engine.execStream(t.id, cmd, {
      user: t.user,
      workdir: WORKSPACE_DIR,
      tty: opts.tty,
      stdin: true,
      env: opts.env,
    });
    return { ...ex, demux: (out, err) => engine.demux(ex.stream, out, err) };
  };
}

function authenticate(o: SshServerOptions, ctx: AuthContext, found: (t: Target) => void): void {
  if (ctx.method !== 'publickey') {
    ctx.reject(['publickey']);
    return;
  }
  const { key } = ctx;
  void (async () => {
    const keys = await authorizedKeys(o.env, o.clientKeyPub);
    const mine = keys.find((k) => {
      const pub = k.getPublicSSH();
      return pub.length === key.data.length && timingSafeEqual(pub, key.data);
    });
    if (!mine) return ctx.reject(['publickey']);
    // The user name is checked before the key's proof, so an unknown sandbox fails either way.
    const target = await findTarget(o.engine, ctx.username);
    if (!target) {
      o.log(`ssh: refused ${JSON.stringify(ctx.username)}: no running corral sandbox by that name`);
      return ctx.reject(['publickey']);
    }
    if (ctx.signature) {
      if (mine.verify(ctx.blob ?? Buffer.alloc(0), ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject(['publickey']);
      found(target);
    }
    ctx.accept();
  })().catch((e: Error) => {
    o.log(`ssh: authentication failed: ${e.message}`);
    ctx.reject(['publickey']);
  });
}

function serve(o: SshServerOptions, client: Connection): void {
  let target: Target | undefined;
  client.on('error', (e) => o.log(`ssh: connection error: ${e.message}`));
  client.on('authentication', (ctx) =>
    authenticate(o, ctx, (t) => {
      target = t;
    }),
  );
  client.on('ready', () => {
    const t = target;
    if (!t) return client.end();
    o.log(`ssh: session for ${t.name}`);
    const exec = execFor(o.engine, t);
    client.on('session', (accept) => serveSession(accept(), exec, o.log));
    client.on('tcpip', (accept, reject, info) => relayTcp(accept, reject, info, exec, o.log));
    // No remote forwards (-R): nothing inside the sandbox gets to listen on the host.
    client.on('request', (_accept, reject) => reject?.());
  });
}

/**
 * AES-GCM only (OpenSSL, through Node): OpenSSH prefers chacha20-poly1305, which ssh2 computes in
 * JavaScript unless its optional native addon was built; measured, a 50 MB scp took 6.5 s with it
 * and 3.8 s with aes128-gcm on Podman.
 */
const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'];

export function startSshServer(o: SshServerOptions): Promise<SshServer> {
  const server = new ssh2.Server(
    { hostKeys: [o.hostKey], ident: 'corral', algorithms: { cipher: CIPHERS as never } },
    (client) => serve(o, client),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', (e: Error) => o.log(`ssh: server error: ${e.message}`));
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
          }),
      });
    });
  });
}
