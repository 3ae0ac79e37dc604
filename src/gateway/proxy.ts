/**
 * The egress gateway: an HTTP forward proxy sandboxes reach through HTTP(S)_PROXY. Three paths:
 *  - plain HTTP (absolute-URI requests): judged per request, forwarded with keep-alive;
 *  - CONNECT to a host that is not intercepted: judged on host:port, resolved, checked, then a
 *    raw TCP splice to the checked address (the gateway sees nothing inside);
 *  - CONNECT to an intercepted host: TLS terminated with a leaf from the install's CA, each request
 *    inside judged on method and path, credentials injected, forwarded over verified TLS.
 * The policy is read per connection/request, so setPolicy needs no restart.
 */
import {
  createServer,
  Agent as HttpAgent,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { createSecureContext, rootCertificates } from 'node:tls';
import { CorralError } from '../errors.js';
import { normalizeHost } from './addresses.js';
import { createAuditLog } from './audit.js';
import type { CertificateAuthority } from './ca.js';
import { type ConnectEnv, handleConnect, rawRefusal, type TunnelTarget } from './connect.js';
import type { GatewayContext } from './context.js';
import { type Credential, type CredentialInput, credentialHosts, parseCredentials } from './credentials.js';
import { needsInterception } from './decide.js';
import { deniedWriter } from './denied-log.js';
import { ExchangedTokens } from './exchange.js';
import { forwardRequest, forwardUpgrade, type Target } from './forward.js';
import { type EgressPolicy, hostMatches, parsePolicy } from './policy.js';
import { cachingResolver, type Resolve, systemResolve } from './resolve.js';

/** Under the common 5 s server keep-alive timeout, with room for a loaded machine. */
const IDLE_UPSTREAM_MS = 3000;

import { PRESENCE_PATH } from './settings.js';

export { PRESENCE_PATH };

export interface GatewayOptions {
  policy: EgressPolicy;
  /** Listen address; default 127.0.0.1. In the gateway container, the internal network's side. */
  host?: string;
  /** Listen port; default 0 (any free port). */
  port?: number;
  /** Listen on this Unix socket instead of TCP (a sandbox with no network reaches it by bind mount). */
  socketPath?: string;
  /** The install's CA. Without it, hosts that need interception are refused rather than tunnelled. */
  ca?: CertificateAuthority;
  credentials?: readonly CredentialInput[];
  /** Credentials whose values change while the gateway runs (brokered OAuth logins), read per use. */
  liveCredentials?: () => readonly Credential[];
  /** Extra PEM certificate(s) to trust for upstream TLS, on top of the system roots. */
  upstreamCa?: string | readonly string[];
  /** Name resolution; default dns.lookup (all addresses). Tests map fake names to loopback. */
  resolve?: Resolve;
  /** How long a resolution is reused; default 5000 ms, 0 to resolve every time. */
  dnsCacheMs?: number;
  /** Where JSON-lines audit entries go (e.g. fs.createWriteStream(path, { flags: 'a' })). */
  audit?: Writable;
  /** Label for the audit log's `sandbox` field. */
  sandbox?: string;
  /** Give up connecting upstream for a tunnel after this long; default 15000 ms. */
  connectTimeoutMs?: number;
  /** Told when a client connection opens (true) or closes (false), e.g. to exit when idle. */
  onConnection?: (open: boolean) => void;
  /** Log the head of request and response bodies (redacted) where the gateway sees them. */
  logBodies?: boolean;
  /** Also append each refusal, one readable line, to this file (the sandboxes can read it). */
  deniedFile?: string;
}

export interface Gateway {
  /** TCP listen address and port; empty and 0 when listening on a Unix socket. */
  readonly host: string;
  readonly port: number;
  readonly socketPath?: string;
  /** `http://host:port` (the value for HTTP_PROXY/HTTPS_PROXY), or `unix:<path>`. */
  readonly url: string;
  readonly policy: EgressPolicy;
  /** Replace the policy; applies to every request and connection that starts afterwards. */
  setPolicy(policy: EgressPolicy): void;
  /** Replace the injected credentials, likewise. */
  setCredentials(credentials: readonly CredentialInput[]): void;
  /** Turn body logging on or off for requests that start afterwards. */
  setBodyLogging(on: boolean): void;
  close(): Promise<void>;
}

function plainText(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  let policy = parsePolicy(opts.policy);
  let credentials = parseCredentials(opts.credentials ?? []);
  let injectHosts = credentialHosts(credentials);
  let logBodies = opts.logBodies ?? false;
  const extraCa = opts.upstreamCa === undefined ? [] : [opts.upstreamCa].flat();
  // Node replaces, not extends, its roots when `ca` is given, so extra CAs come with the roots. Built
  // once as a context: a `ca` agent option would be re-joined into the pool key on every request.
  const tlsTrust = extraCa.length
    ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...extraCa] }) }
    : {};
  const exchanged = new ExchangedTokens();
  const live = () => [...(opts.liveCredentials?.() ?? []), ...exchanged.credentials()];
  const current = (): readonly Credential[] => [...credentials, ...live()];
  const ctx: GatewayContext = {
    policy: () => policy,
    resolve: cachingResolver(opts.resolve ?? systemResolve, opts.dnsCacheMs ?? 5000),
    get credentials() {
      return current();
    },
    exchanged,
    audit: createAuditLog(opts.audit, {
      sandbox: opts.sandbox,
      // Read at each write, so keys handed over later (and refreshed tokens) are redacted too.
      secrets: () => current().map((c) => c.value),
      ...(opts.deniedFile ? { onDeny: deniedWriter(opts.deniedFile) } : {}),
    }),
    ca: opts.ca,
    // An idle upstream connection is dropped before the server's own keep-alive timeout (Node's
    // default is 5 s, and Node also honours a shorter `Keep-Alive: timeout=` hint): reusing one the
    // server is closing at that moment fails the request with ECONNRESET (seen in the e2e tests
    // under load: opencode's request after a pause got a 502).
    httpAgent: new HttpAgent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_UPSTREAM_MS }),
    httpsAgent: new HttpsAgent({
      keepAlive: true,
      scheduling: 'lifo',
      timeout: IDLE_UPSTREAM_MS,
      ...tlsTrust,
    }),
    connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
    logBodies: () => logBodies,
  };

  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const trackClient = (s: Socket) => {
    track(s);
    opts.onConnection?.(true);
    s.once('close', () => opts.onConnection?.(false));
  };
  const targets = new WeakMap<Socket, TunnelTarget>();

  // Requests inside intercepted tunnels: this server never listens, tunnels are handed to it.
  const inner = createServer({ requestTimeout: 0 });
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const t = innerTarget(req);
    if (!t) return plainText(res, 400, 'corral egress gateway: the Host header does not match the tunnel\n');
    forwardRequest(ctx, req, res, t).catch(() => res.destroy());
  });
  inner.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const t = innerTarget(req);
    if (!t)
      return rawRefusal(socket, 400, 'corral egress gateway: the Host header does not match the tunnel\n');
    forwardUpgrade(ctx, req, socket, head, t).catch(() => socket.destroy());
  });
  inner.on('clientError', (_e, socket: Socket) => socket.destroy());

  function innerTarget(req: IncomingMessage): Target | undefined {
    const tunnel = targets.get(req.socket);
    if (!tunnel) return undefined;
    // The request must be for the host the tunnel was judged on: otherwise a client could open an
    // allowed tunnel and then address a different virtual host behind the same server.
    const hostHeader = req.headers.host;
    if (hostHeader !== undefined) {
      let name: string;
      try {
        name = normalizeHost(new URL(`http://${hostHeader}`).hostname);
      } catch {
        return undefined;
      }
      if (name !== tunnel.host) return undefined;
    }
    return { ...tunnel, path: req.url ?? '/', secure: true };
  }

  const server: Server = createServer({ requestTimeout: 0 });
  server.on('connection', trackClient);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const t = plainTarget(req);
    if (t) return void forwardRequest(ctx, req, res, t).catch(() => res.destroy());
    if (req.url === '/healthz') return plainText(res, 200, 'ok\n');
    if (req.url === PRESENCE_PATH) {
      // A sandbox's forwarder saying it is there: answered with a head only, held open until
      // the sandbox goes (its open connection is what keeps the gateway from idling out).
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.flushHeaders();
    }
    plainText(res, 400, 'corral egress gateway: send proxy requests (absolute http:// URLs or CONNECT)\n');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const t = plainTarget(req);
    if (!t) return rawRefusal(socket, 400, 'corral egress gateway: expected an absolute http:// URL\n');
    forwardUpgrade(ctx, req, socket, head, t).catch(() => socket.destroy());
  });
  const connectEnv: ConnectEnv = {
    ctx,
    intercepts: (host) =>
      needsInterception(policy, host) ||
      injectHosts.some((p) => hostMatches(p, host)) ||
      live().some((c) => hostMatches(c.host, host)),
    track,
    adopt(tls, target) {
      targets.set(tls, target);
      inner.emit('connection', tls);
    },
  };
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleConnect(connectEnv, req.url, socket, head).catch(() => socket.destroy());
  });
  server.on('clientError', (_e, socket: Socket) => socket.destroy());

  function plainTarget(req: IncomingMessage): Target | undefined {
    if (!req.url?.startsWith('http://')) return undefined;
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return undefined;
    }
    req.headers.host = url.host; // a proxy replaces Host with the request target's authority
    const host = normalizeHost(url.hostname);
    return { host, port: Number(url.port) || 80, path: `${url.pathname}${url.search}`, secure: false };
  }

  const where = opts.socketPath ?? `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) =>
      reject(
        new CorralError(
          'BAD_INPUT',
          `The egress gateway cannot listen on ${where}: ${e.message}`,
          'Pick another port, address or socket path.',
          {
            cause: e,
          },
        ),
      );
    server.once('error', onError);
    const ready = () => {
      server.off('error', onError);
      resolve();
    };
    if (opts.socketPath) server.listen(opts.socketPath, ready);
    else server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', ready);
  });
  const address = server.address();
  const tcp = address && typeof address === 'object' ? address : undefined;
  const listenHost = tcp?.address ?? '';
  const url = opts.socketPath
    ? `unix:${opts.socketPath}`
    : `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${tcp?.port}`;

  return {
    host: listenHost,
    port: tcp?.port ?? 0,
    ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
    url,
    get policy() {
      return policy;
    },
    setCredentials(list: readonly CredentialInput[]) {
      credentials = parseCredentials(list);
      injectHosts = credentialHosts(credentials);
    },
    setBodyLogging(on: boolean) {
      logBodies = on;
    },
    setPolicy(p: EgressPolicy) {
      policy = parsePolicy(p);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      ctx.httpAgent.destroy();
      ctx.httpsAgent.destroy();
      await closed;
    },
  };
}
