/**
 * Forwarding one HTTP request (or WebSocket upgrade) the gateway can see: plain HTTP from a proxy
 * client, or a request inside an intercepted TLS tunnel. Each request is judged afresh (method,
 * path, the policy as it is now), credentials are swapped in, and the response streams back chunk
 * by chunk: SSE and long downloads are never held back.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BodyCapture } from './bodies.js';
import {
  type Admission,
  admit,
  describeTarget,
  type GatewayContext,
  refusalBody,
  ruleText,
} from './context.js';
import { applyCredentials, credentialRefusal } from './credentials.js';
import { canonicalPath } from './decide.js';
import { exchangeFor, relayExchange } from './exchange.js';
import { requestHeaders, responseHeaders } from './headers.js';

export interface Target {
  host: string;
  port: number;
  /** Path and query as the client sent them (origin form). */
  path: string;
  /** Upstream leg is TLS (the request came through an intercepted tunnel). */
  secure: boolean;
}

function upstreamPath(path: string): string {
  const q = path.search(/[?#]/);
  // Send the path the decision was made on, so the upstream cannot read a different one.
  return canonicalPath(path) + (q === -1 ? '' : path.slice(q).replace(/#.*$/, ''));
}

function startUpstream(
  ctx: GatewayContext,
  req: IncomingMessage,
  t: Target,
  address: string,
  upgrade: boolean,
) {
  const headers = requestHeaders(req, upgrade);
  if (!headers.host) headers.host = describeTarget(undefined, t.host, t.port).replace(/:(80|443)$/, '');
  const injected = applyCredentials(ctx.credentials, t.host, headers, t.secure);
  // A token exchange's answer is read whole by the gateway (exchange.ts): ask for it uncompressed.
  const exchange = upgrade ? undefined : exchangeFor(t.host, t.path, injected, t.secure);
  if (exchange) headers['accept-encoding'] = 'identity';
  const options = {
    host: address,
    port: t.port,
    method: req.method,
    path: upstreamPath(t.path),
    headers,
    // Certificate checks use the name the client asked for, not the address we connect to.
    ...(t.secure && !isIP(t.host) ? { servername: t.host } : {}),
  };
  const up = t.secure
    ? httpsRequest({ ...options, agent: ctx.httpsAgent })
    : httpRequest({ ...options, agent: ctx.httpAgent });
  up.setNoDelay(true);
  return { up, exchange };
}

interface Outcome {
  status: number;
  bytesIn: number;
  bytesOut: number;
  decision: 'allow' | 'deny' | 'error';
  reason?: string;
}

/** The heads of one exchange's bodies, when body logging is on. */
interface Bodies {
  request: BodyCapture;
  response: BodyCapture;
  responseHeaders?: IncomingMessage['headers'];
}

function record(
  ctx: GatewayContext,
  req: IncomingMessage,
  t: Target,
  a: Admission,
  start: number,
  o: Outcome,
  bodies?: Bodies,
) {
  const entry = {
    method: req.method ?? 'GET',
    host: t.host,
    port: t.port,
    path: t.path,
    status: o.status,
    bytesIn: o.bytesIn,
    bytesOut: o.bytesOut,
    rule: ruleText(a.decision),
    decision: o.decision,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(t.secure ? { intercepted: true } : {}),
    durationMs: performance.now() - start,
  };
  if (!bodies) return ctx.audit.write(entry);
  // Decoding a compressed body is asynchronous; the entry keeps the times taken above.
  Promise.all([bodies.request.result(req.headers), bodies.response.result(bodies.responseHeaders ?? {})])
    .then(([requestBody, responseBody]) =>
      ctx.audit.write({
        ...entry,
        ...(requestBody ? { requestBody } : {}),
        ...(responseBody ? { responseBody } : {}),
      }),
    )
    .catch(() => ctx.audit.write(entry));
}

function refuse(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-corral-egress': status === 403 ? 'denied' : 'error',
  });
  res.end(body);
}

/**
 * The rules' admission, then the scope of any token the request carries: a token is never put on a
 * request outside its scope, and the sandbox learns why from the 403 like any other refusal.
 */
async function admitRequest(ctx: GatewayContext, req: IncomingMessage, t: Target): Promise<Admission> {
  const a = await admit(ctx, { host: t.host, port: t.port, method: req.method, path: t.path });
  if (!a.ok) return a;
  const why = credentialRefusal(ctx.credentials, t.host, req.method ?? 'GET', t.path, req.headers, t.secure);
  return why ? { ok: false, status: 403, decision: { allowed: false, reason: why } } : a;
}

export async function forwardRequest(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  t: Target,
) {
  const start = performance.now();
  const a = await admitRequest(ctx, req, t);
  if (!a.ok) {
    refuse(res, a.status, refusalBody(describeTarget(req.method, t.host, t.port, t.path), a.decision));
    req.resume();
    record(ctx, req, t, a, start, {
      status: a.status,
      bytesIn: 0,
      bytesOut: 0,
      decision: a.status === 403 ? 'deny' : 'error',
      reason: a.decision.reason,
    });
    return;
  }
  const o: Outcome = { status: 502, bytesIn: 0, bytesOut: 0, decision: 'allow' };
  const bodies: Bodies | undefined = ctx.logBodies()
    ? { request: new BodyCapture(), response: new BodyCapture() }
    : undefined;
  const { up, exchange } = startUpstream(ctx, req, t, a.address, false);
  req.on('data', (c: Buffer) => {
    o.bytesOut += c.length;
    bodies?.request.add(c);
  });
  req.on('error', () => up.destroy());
  req.pipe(up);
  up.on('response', (ures) => {
    o.status = ures.statusCode ?? 502;
    if (exchange && ctx.exchanged) {
      relayExchange(exchange, ures, res, ctx.exchanged).then(
        (n) => {
          o.bytesIn = n;
        },
        () => res.destroy(),
      );
      return;
    }
    res.writeHead(o.status, ures.statusMessage, responseHeaders(ures));
    // Send the head now: an SSE client must see the response start before the first event.
    res.flushHeaders();
    if (bodies) bodies.responseHeaders = ures.headers;
    ures.on('data', (c: Buffer) => {
      o.bytesIn += c.length;
      bodies?.response.add(c);
    });
    ures.pipe(res);
    ures.on('error', () => res.destroy());
  });
  up.on('error', (e) => {
    o.decision = 'error';
    o.reason = `upstream: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
    if (!res.headersSent) {
      o.status = 502;
      refuse(
        res,
        502,
        refusalBody(describeTarget(req.method, t.host, t.port, t.path), { allowed: false, reason: o.reason }),
      );
    } else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) {
      up.destroy();
      if (o.decision === 'allow') o.reason = 'client closed before the response ended';
    }
    record(ctx, req, t, a, start, o, bodies);
  });
}

function writeHead(socket: Socket, status: number, message: string, raw: string[]) {
  let head = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  socket.write(`${head}\r\n`);
}

/** A WebSocket (or other) upgrade: judged like a request, then both sockets are spliced. */
export async function forwardUpgrade(
  ctx: GatewayContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  t: Target,
) {
  const start = performance.now();
  socket.on('error', () => socket.destroy());
  const a = await admitRequest(ctx, req, t);
  if (!a.ok) {
    const body = refusalBody(describeTarget(req.method, t.host, t.port, t.path), a.decision);
    writeHead(socket, a.status, a.status === 403 ? 'Forbidden' : 'Bad Gateway', [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(body)),
      'Connection',
      'close',
    ]);
    socket.end(body);
    const decision = a.status === 403 ? 'deny' : 'error';
    record(ctx, req, t, a, start, {
      status: a.status,
      bytesIn: 0,
      bytesOut: 0,
      decision,
      reason: a.decision.reason,
    });
    return;
  }
  const o: Outcome = { status: 502, bytesIn: 0, bytesOut: 0, decision: 'allow' };
  const done = () => record(ctx, req, t, a, start, o);
  const { up } = startUpstream(ctx, req, t, a.address, true);
  up.end();
  let responded = false;
  up.on('upgrade', (ures, usocket: Socket, uhead: Buffer) => {
    responded = true;
    o.status = ures.statusCode ?? 101;
    writeHead(socket, o.status, ures.statusMessage ?? 'Switching Protocols', responseHeaders(ures, true));
    if (uhead.length) socket.write(uhead);
    if (head.length) usocket.write(head);
    usocket.on('error', () => socket.destroy());
    socket.on('error', () => usocket.destroy());
    socket.pipe(usocket).pipe(socket);
    socket.on('close', () => {
      usocket.destroy();
      o.bytesIn = usocket.bytesRead + uhead.length;
      o.bytesOut = usocket.bytesWritten;
      done();
    });
  });
  up.on('response', (ures) => {
    // The upstream declined to upgrade: relay its answer and close.
    responded = true;
    o.status = ures.statusCode ?? 502;
    writeHead(socket, o.status, ures.statusMessage ?? '', [...responseHeaders(ures), 'Connection', 'close']);
    ures.on('data', (c: Buffer) => {
      o.bytesIn += c.length;
    });
    ures.pipe(socket);
    ures.on('end', done);
  });
  up.on('error', (e) => {
    o.decision = 'error';
    o.reason = `upstream: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
    if (responded) return void socket.destroy();
    writeHead(socket, 502, 'Bad Gateway', ['Content-Length', '0', 'Connection', 'close']);
    socket.end();
    done();
  });
}
