/**
 * CONNECT handling. A tunnel to a host that is not intercepted is judged on host and port only,
 * then spliced as raw TCP to the exact address that passed the checks. A tunnel to an intercepted
 * host is judged on host and port here, then handed (as a server-side TLS socket) to the inner
 * HTTP server, where each request is judged on its own.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { normalizeHost } from './addresses.js';
import type { AuditDecision } from './audit.js';
import { admit, describeTarget, type GatewayContext, refusalBody, ruleText } from './context.js';
import { decide } from './decide.js';
import { connectInto } from './read-into.js';

export interface TunnelTarget {
  host: string;
  port: number;
}

export interface ConnectEnv {
  ctx: GatewayContext;
  /** Whether TLS for this host is terminated at the gateway. */
  intercepts(host: string): boolean;
  /** Give an outgoing socket to the gateway so close() can end it. */
  track(socket: Socket): void;
  /** Serve HTTP on a decrypted tunnel. */
  adopt(tls: TLSSocket, target: TunnelTarget): void;
}

export function parseAuthority(s: string | undefined): TunnelTarget | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(s ?? '');
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: normalizeHost(m[1]!), port };
}

/** An HTTP response written straight to a socket the HTTP server has let go of. */
export function rawRefusal(socket: Socket, status: 400 | 403 | 502, body: string) {
  const text = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' }[status];
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Corral-Egress: ${status === 403 ? 'denied' : 'error'}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

export async function handleConnect(
  env: ConnectEnv,
  rawTarget: string | undefined,
  socket: Socket,
  head: Buffer,
) {
  const { ctx } = env;
  const start = performance.now();
  socket.on('error', () => socket.destroy());
  const target = parseAuthority(rawTarget);
  if (!target) return rawRefusal(socket, 400, 'corral egress gateway: CONNECT needs host:port\n');
  const { host, port } = target;
  const what = describeTarget('CONNECT', host, port);
  const refuse = (status: 403 | 502, decision: AuditDecision, d: { reason: string; rule?: string }) => {
    ctx.audit.write({
      method: 'CONNECT',
      host,
      port,
      status,
      bytesIn: 0,
      bytesOut: 0,
      ...(d.rule ? { rule: d.rule } : {}),
      decision,
      reason: d.reason,
      durationMs: performance.now() - start,
    });
  };

  if (env.intercepts(host)) {
    // Judge the host now (a clear 403 before any TLS); method, path and resolved addresses are
    // judged per request inside, against the policy as it is at that moment.
    const d = decide(ctx.policy(), { host, port });
    if (!d.allowed) {
      refuse(403, 'deny', { reason: d.reason, rule: ruleText(d) });
      return rawRefusal(socket, 403, refusalBody(what, d));
    }
    if (!ctx.ca) {
      const reason = `${host} needs TLS interception, but the gateway has no CA`;
      refuse(403, 'deny', { reason });
      return rawRefusal(socket, 403, refusalBody(what, { allowed: false, reason }));
    }
    const secureContext = await ctx.ca.secureContextFor(host);
    socket.write(ESTABLISHED);
    if (head.length) socket.unshift(head);
    // HTTP/1.1 only: the inner server speaks HTTP/1.1, and h2 clients fall back cleanly.
    const tls = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    tls.on('error', () => tls.destroy());
    env.adopt(tls, target);
    return;
  }

  const a = await admit(ctx, { host, port });
  if (!a.ok) {
    refuse(a.status, a.status === 403 ? 'deny' : 'error', {
      reason: a.decision.reason,
      rule: ruleText(a.decision),
    });
    return rawRefusal(socket, a.status, refusalBody(what, a.decision));
  }
  splice(env, socket, head, target, a.address, ruleText(a.decision), start);
}

function splice(
  env: ConnectEnv,
  socket: Socket,
  head: Buffer,
  { host, port }: TunnelTarget,
  address: string,
  rule: string | undefined,
  start: number,
) {
  const { ctx } = env;
  const upstream = connectInto({ host: address, port, noDelay: true }, socket);
  env.track(upstream);
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), ctx.connectTimeoutMs);
  let opened = false;
  let failure: string | undefined;
  upstream.once('connect', () => {
    clearTimeout(timer);
    opened = true;
    socket.write(ESTABLISHED);
    if (head.length) upstream.write(head);
    socket.pipe(upstream);
  });
  upstream.on('end', () => socket.end());
  upstream.on('error', (e: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    failure = `upstream: ${e.code ?? e.message}`;
    if (opened) return void socket.destroy();
    rawRefusal(
      socket,
      502,
      refusalBody(describeTarget('CONNECT', host, port), { allowed: false, reason: failure }),
    );
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', (hadError) => {
    // Before the tunnel opened, the 502 is still being written: let it finish; after an orderly
    // end, what the upstream sent last is still being written.
    if (opened && hadError) socket.destroy();
    ctx.audit.write({
      method: 'CONNECT',
      host,
      port,
      status: opened ? 200 : 502,
      bytesIn: upstream.bytesRead,
      bytesOut: upstream.bytesWritten,
      ...(rule ? { rule } : {}),
      decision: opened ? 'allow' : 'error',
      ...(failure ? { reason: failure } : {}),
      durationMs: performance.now() - start,
    });
  });
}
