/**
 * The gateway attacked over loopback only: test upstreams (HTTP and HTTPS with their own CA) on
 * 127.0.0.1 are given fake names through the gateway's resolver hook. Every refusal is asserted
 * by status and by the message the sandbox would see; every pass is asserted at the upstream.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type CertificateAuthority, loadOrCreateCa } from '../../src/gateway/ca.js';
import { buildPolicy, type EgressPolicy, parseRule } from '../../src/gateway/policy.js';
import { type Gateway, startGateway } from '../../src/gateway/proxy.js';

// Fake credentials (never live keys); the test asserts where they do and do not travel.
const REAL_KEY = `sk-ant-test-${randomBytes(12).toString('hex')}`;
const REAL_TOKEN = `opaque-${randomBytes(12).toString('hex')}`;
const PLACEHOLDER = 'corral-placeholder-anthropic';
const BEARER_PLACEHOLDER = 'corral-placeholder-openai';

interface Seen {
  body?: string;
  host: string;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  secure: boolean;
}
const seen: Seen[] = [];
const events: string[] = [];
let releaseSse: () => void = () => {};

function handler(secure: boolean) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push({
      host: req.headers.host ?? '',
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      secure,
    });
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      events.push('upstream-sent-first');
      // Ends when the client has the first event, or after a fallback so a buffering proxy shows up
      // as the wrong order of events rather than as a hang.
      const fallback = setTimeout(() => releaseSse(), 3000);
      new Promise<void>((r) => {
        releaseSse = r;
      }).then(() => {
        clearTimeout(fallback);
        events.push('upstream-ended');
        res.end('data: last\n\n');
      });
      return;
    }
    const entry = seen.at(-1)!;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      entry.body = Buffer.concat(chunks).toString();
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
  };
}

let gatewayCa: CertificateAuthority;
let upstreamCa: CertificateAuthority;
let https: Server;
let http: Server;
let httpsPort: number;
let httpPort: number;
let gw: Gateway;
let auditPath: string;
let auditStream: ReturnType<typeof createWriteStream>;

const NAMES: Record<string, string[]> = {
  'api.test': ['127.0.0.1'],
  'other.test': ['127.0.0.1'],
  'scoped.test': ['127.0.0.1'],
  'ws.test': ['127.0.0.1'],
  'a.wild.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'lan.test': ['10.20.30.40'],
};

const BASE: EgressPolicy = buildPolicy({
  preset: 'agent',
  agentDomains: ['api.test'],
  // The test upstreams listen on random ports: rules without a port cover 443 and 80 only.
  rules: [
    { action: 'allow', host: 'api.test', port: '*' },
    { action: 'allow', host: 'other.test', port: '*' },
    { action: 'allow', host: 'ws.test', port: '*' },
    { action: 'allow', host: 'meta.test', port: '*' },
    parseRule('GET scoped.test:*/v1/', 'allow', 'project'),
    { action: 'allow', host: '*.wild.test', port: '*' },
  ],
  intercept: ['ws.test', 'other.test'],
});

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'corral-gw-'));
  gatewayCa = await loadOrCreateCa(join(dir, 'gateway-ca'));
  upstreamCa = await loadOrCreateCa(join(dir, 'upstream-ca'), { commonName: 'corral test upstream CA' });
  https = createHttpsServer(
    { SNICallback: (name, cb) => upstreamCa.secureContextFor(name).then((c) => cb(null, c), cb) },
    handler(true),
  );
  http = createHttpServer(handler(false));
  for (const s of [https, http]) {
    const wss = new WebSocketServer({ server: s });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
  }
  httpsPort = (https.address() as AddressInfo).port;
  httpPort = (http.address() as AddressInfo).port;
  auditPath = join(dir, 'audit.jsonl');
  auditStream = createWriteStream(auditPath, { flags: 'a' });
  gw = await startGateway({
    policy: BASE,
    ca: gatewayCa,
    upstreamCa: upstreamCa.certPem,
    resolve: async (host) =>
      NAMES[host] ?? Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
    audit: auditStream,
    sandbox: 'test-sandbox',
    connectTimeoutMs: 500,
    credentials: [
      { host: 'api.test', header: 'x-api-key', value: REAL_KEY, placeholder: PLACEHOLDER },
      { host: 'api.test', header: 'authorization', value: REAL_TOKEN, placeholder: BEARER_PLACEHOLDER },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  https?.close();
  http?.close();
});

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function collect(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
    );
    res.on('error', reject);
  });
}

/** A plain-HTTP proxy request (absolute URI), as curl with HTTP_PROXY would send it. */
function viaProxy(
  url: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: gw.host,
      port: gw.port,
      path: url,
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false,
    });
    req.on('response', (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT host:port; on 200 the raw tunnel socket, otherwise the refusal. */
function connectTunnel(
  authority: string,
  via: Gateway = gw,
): Promise<{ status: number; socket?: Socket; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: via.host, port: via.port, method: 'CONNECT', path: authority, agent: false });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode === 200) return resolve({ status: 200, socket, body: '' });
      const chunks = [head];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** TLS to `host` through a CONNECT tunnel, trusting only the gateway's CA (as a sandbox does). */
async function tlsThrough(host: string, port: number, via: Gateway = gw): Promise<TLSSocket> {
  const t = await connectTunnel(`${host}:${port}`, via);
  if (t.status !== 200) throw new Error(`CONNECT ${host}: ${t.status} ${t.body}`);
  const s = tlsConnect({ socket: t.socket, servername: host, ca: gatewayCa.certPem });
  await once(s, 'secureConnect');
  return s;
}

/** An HTTPS request as a sandbox client sends it through HTTPS_PROXY. */
async function httpsVia(
  host: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
) {
  const t = await connectTunnel(`${host}:${httpsPort}`);
  if (t.status !== 200) return { status: t.status, headers: {}, body: t.body } as Reply;
  const s = tlsConnect({ socket: t.socket, servername: host, ca: gatewayCa.certPem });
  await once(s, 'secureConnect');
  return new Promise<Reply>((resolve, reject) => {
    const req = request({
      createConnection: () => s,
      host,
      port: httpsPort,
      path,
      method: opts.method ?? 'GET',
      headers: opts.headers,
    });
    req.on('response', (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

describe('refusals', () => {
  it('refuses a non-allowed domain with a 403 naming the rule to add (CONNECT and plain HTTP)', async () => {
    const t = await connectTunnel('blocked.test:443');
    expect(t.status).toBe(403);
    expect(t.body).toContain('corral egress allow blocked.test');
    const p = await viaProxy('http://blocked.test:8080/x');
    expect(p.status).toBe(403);
    expect(p.headers['x-corral-egress']).toBe('denied');
    expect(p.body).toContain('corral egress allow blocked.test:8080');
  });

  it('refuses raw IPs: public ones not allowed, loopback ones even under open', async () => {
    expect((await connectTunnel('203.0.113.10:443')).status).toBe(403);
    gw.setPolicy(buildPolicy({ preset: 'open' }));
    try {
      const loop = await connectTunnel(`127.0.0.1:${httpPort}`);
      expect(loop.status).toBe(403);
      expect(loop.body).toContain('loopback');
      expect((await viaProxy(`http://127.0.0.1:${httpPort}/`)).status).toBe(403);
      expect((await viaProxy(`http://[::1]:${httpPort}/`)).status).toBe(403);
    } finally {
      gw.setPolicy(BASE);
    }
  });

  it('refuses the metadata address even with open, by IP or by a name resolving to it', async () => {
    gw.setPolicy(buildPolicy({ preset: 'open', rules: [{ action: 'allow', host: 'meta.test', port: '*' }] }));
    try {
      const ip = await viaProxy('http://169.254.169.254/latest/meta-data/');
      expect(ip.status).toBe(403);
      expect(ip.body).toContain('metadata');
      expect((await connectTunnel('169.254.169.254:80')).status).toBe(403);
      const named = await connectTunnel('meta.test:80');
      expect(named.status).toBe(403);
      expect(named.body).toContain('meta.test resolves to 169.254.169.254');
    } finally {
      gw.setPolicy(BASE);
    }
  });

  it('refuses names resolving to private or loopback ranges unless the name is allowed exactly', async () => {
    const lan = await connectTunnel('lan.test:443');
    expect(lan.status).toBe(403); // not allowed at all
    gw.setPolicy(buildPolicy({ preset: 'open' }));
    try {
      const wide = await connectTunnel('lan.test:443');
      expect(wide.status).toBe(403);
      expect(wide.body).toContain('10.20.30.40');
    } finally {
      gw.setPolicy(BASE);
    }
    // Allowed by a wildcard rule, but resolving to loopback: still refused.
    const wild = await viaProxy(`http://a.wild.test:${httpPort}/`);
    expect(wild.status).toBe(403);
    expect(wild.body).toContain('a.wild.test resolves to 127.0.0.1');
    // Named exactly (other.test resolves to 127.0.0.1 too): allowed, and the upstream sees it.
    const ok = await viaProxy(`http://other.test:${httpPort}/named`);
    expect(ok.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ url: '/named', host: `other.test:${httpPort}` });
  });

  it('refuses a disallowed method or path on an intercepted domain, allows the allowed path', async () => {
    const post = await httpsVia('scoped.test', '/v1/messages', { method: 'POST' });
    expect(post.status).toBe(403);
    expect(post.body).toContain("corral egress allow 'POST scoped.test/v1/messages'");
    const traversal = await httpsVia('scoped.test', '/v1/../admin');
    expect(traversal.status).toBe(403);
    const before = seen.length;
    const get = await httpsVia('scoped.test', '/v1/models?x=1');
    expect(get.status).toBe(200);
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/models?x=1', secure: true });
  });

  it('refuses a request whose Host differs from the tunnel it came through', async () => {
    const s = await tlsThrough('scoped.test', httpsPort);
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = request({ createConnection: () => s, path: '/v1/x', headers: { host: 'api.test' } });
      req.on('response', (res) => collect(res).then(resolve, reject));
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(400);
  });
});

describe('request framing', () => {
  it('keeps a chunked GET body framed, so it cannot smuggle a second request past the rules', async () => {
    const smuggled = 'GET /v1/../admin HTTP/1.1\r\nHost: scoped.test\r\n\r\n';
    const chunked = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
    const plain = await connectRaw();
    const r1 = await rawRequest(
      plain,
      `GET http://other.test:${httpPort}/framed HTTP/1.1\r\nHost: other.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    );
    expect(r1.status).toBe(200);
    expect(seen.find((x) => x.url === '/framed')?.body).toBe(smuggled);
    plain.destroy();
    const s = await tlsThrough('scoped.test', httpsPort);
    const r2 = await rawRequest(
      s,
      `GET /v1/framed HTTP/1.1\r\nHost: scoped.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    );
    expect(r2.status).toBe(200);
    expect(seen.find((x) => x.url === '/v1/framed')?.body).toBe(smuggled);
    expect(seen.some((x) => x.url.includes('admin'))).toBe(false);
    s.destroy();
  });
});

describe('listening', () => {
  it('serves on a Unix socket when given one', async () => {
    const socketPath = join(await mkdtemp(join(tmpdir(), 'corral-gw-sock-')), 'gateway.sock');
    const onSocket = await startGateway({ policy: BASE, socketPath, resolve: async (h) => NAMES[h] ?? [] });
    try {
      expect(onSocket.url).toBe(`unix:${socketPath}`);
      const get = (url: string) =>
        new Promise<Reply>((resolve, reject) => {
          request({ socketPath, path: url, agent: false })
            .on('response', (res) => collect(res).then(resolve, reject))
            .on('error', reject)
            .end();
        });
      expect((await get(`http://other.test:${httpPort}/via-socket`)).status).toBe(200);
      expect(seen.at(-1)?.url).toBe('/via-socket');
      expect((await get('http://blocked.test/')).status).toBe(403);
    } finally {
      await onSocket.close();
    }
  });
});

describe('upstream TLS', () => {
  it('verifies upstream certificates by default: an unknown CA is a 502, and nothing reaches the upstream', async () => {
    const strict = await startGateway({ policy: BASE, ca: gatewayCa, resolve: async (h) => NAMES[h] ?? [] });
    try {
      const before = seen.length;
      const s = await tlsThrough('other.test', httpsPort, strict);
      const r = await rawRequest(s, 'GET /strict HTTP/1.1\r\nHost: other.test\r\n\r\n');
      expect(r.status).toBe(502);
      expect(r.body).toMatch(/upstream: .*(CERT|SIGNATURE|VERIFY)/);
      expect(seen.length).toBe(before);
      s.destroy();
    } finally {
      await strict.close();
    }
  });
});

describe('credential injection', () => {
  it('swaps the placeholder for the real key at the credential host only', async () => {
    const r = await httpsVia('api.test', '/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': PLACEHOLDER, authorization: `Bearer ${BEARER_PLACEHOLDER}` },
    });
    expect(r.status).toBe(200);
    const atApi = seen.at(-1)!;
    expect(atApi.host).toBe(`api.test:${httpsPort}`);
    expect(atApi.headers['x-api-key'] === REAL_KEY).toBe(true);
    expect(atApi.headers.authorization === `Bearer ${REAL_TOKEN}`).toBe(true);

    const o = await httpsVia('other.test', '/v1/messages', { headers: { 'x-api-key': PLACEHOLDER } });
    expect(o.status).toBe(200);
    const atOther = seen.at(-1)!;
    expect(atOther.host).toBe(`other.test:${httpsPort}`);
    expect(atOther.headers['x-api-key']).toBe(PLACEHOLDER);
    expect(JSON.stringify(atOther.headers).includes(REAL_KEY)).toBe(false);
  });

  it('never injects over plain HTTP, even to the credential host', async () => {
    const r = await viaProxy(`http://api.test:${httpPort}/v1/plain`, {
      headers: { 'x-api-key': PLACEHOLDER },
    });
    expect(r.status).toBe(200);
    expect(seen.at(-1)!.headers['x-api-key']).toBe(PLACEHOLDER);
  });
});

describe('streaming and upgrades', () => {
  for (const path of ['intercepted', 'plain'] as const) {
    it(`streams SSE unbuffered (${path}): the first event arrives before the upstream ends`, async () => {
      events.length = 0;
      const options =
        path === 'plain'
          ? { host: gw.host, port: gw.port, path: `http://api.test:${httpPort}/sse`, agent: false as const }
          : await tlsThrough('api.test', httpsPort).then((s) => ({
              createConnection: () => s,
              headers: { host: 'api.test' },
              path: '/sse',
            }));
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        request(options).on('response', resolve).on('error', reject).end();
      });
      expect(res.headers['content-type']).toBe('text/event-stream');
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('data: first') && !events.includes('client-got-first')) {
          events.push('client-got-first');
          releaseSse();
        }
      });
      await once(res, 'end');
      expect(text).toContain('data: last');
      expect(events).toEqual(['upstream-sent-first', 'client-got-first', 'upstream-ended']);
    });
  }

  it('passes a WebSocket upgrade through an intercepted tunnel and through plain HTTP', async () => {
    const viaTls = await tlsThrough('ws.test', httpsPort);
    expect(await wsEcho(viaTls, '/chat', `ws.test:${httpsPort}`, 'hello')).toBe('echo:hello');
    const plain = await connectRaw();
    expect(await wsEcho(plain, `http://ws.test:${httpPort}/chat`, `ws.test:${httpPort}`, 'hi')).toBe(
      'echo:hi',
    );
  });
});

describe('policy changes', () => {
  it('applies setPolicy to the next request, even inside an open intercepted tunnel', async () => {
    const s = await tlsThrough('other.test', httpsPort);
    const first = await rawRequest(s, 'GET /one HTTP/1.1\r\nHost: other.test\r\n\r\n');
    expect(first.status).toBe(200);
    gw.setPolicy({ ...BASE, rules: [...BASE.rules, parseRule('other.test', 'deny', 'flag')] });
    try {
      const second = await rawRequest(s, 'GET /two HTTP/1.1\r\nHost: other.test\r\n\r\n');
      expect(second.status).toBe(403);
      expect(second.body).toContain('deny other.test');
      expect((await viaProxy(`http://other.test:${httpPort}/`)).status).toBe(403);
    } finally {
      gw.setPolicy(BASE);
    }
    expect((await viaProxy(`http://other.test:${httpPort}/`)).status).toBe(200);
    s.destroy();
  });
});

describe('audit log', () => {
  it('records requests and refusals as JSON lines with no secret in them', async () => {
    // Make sure at least one injected request is in the log.
    await httpsVia('api.test', `/v1/audit?api_key=${REAL_KEY}`, { headers: { 'x-api-key': PLACEHOLDER } });
    // The gateway writes a request's line when its response closes, which may be just after the
    // client has the whole response: wait for the line rather than for a fixed time.
    let text = '';
    for (let i = 0; i < 200 && !text.includes('/v1/audit'); i++) {
      await new Promise<void>((r) => auditStream.write('', () => r()));
      text = await readFile(auditPath, 'utf8');
      if (!text.includes('/v1/audit')) await new Promise((r) => setTimeout(r, 10));
    }
    expect(text.includes(REAL_KEY)).toBe(false);
    expect(text.includes(REAL_TOKEN)).toBe(false);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const injected = lines.find((l) => l.path?.startsWith('/v1/audit'));
    expect(injected).toMatchObject({
      sandbox: 'test-sandbox',
      method: 'GET',
      host: 'api.test',
      status: 200,
      decision: 'allow',
      intercepted: true,
    });
    expect(injected.path).toContain('api_key=[redacted]');
    expect(lines.some((l) => l.decision === 'deny' && l.host === 'blocked.test' && l.status === 403)).toBe(
      true,
    );
    expect(lines.every((l) => typeof l.durationMs === 'number' && typeof l.bytesIn === 'number')).toBe(true);
  });
});

// --- raw helpers for what Node's http client will not do through a proxy ---

async function connectRaw(): Promise<Socket> {
  const { connect } = await import('node:net');
  const s = connect(gw.port, gw.host);
  await once(s, 'connect');
  return s;
}

/** Read one HTTP/1.1 response (Content-Length bodies only) from a socket. */
function rawRequest(s: Socket, text: string): Promise<Reply> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString();
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      s.off('data', onData);
      resolve({
        status: Number(head.split(' ')[1]),
        headers: {},
        body: buf.subarray(end + 4, end + 4 + len).toString(),
      });
    };
    s.on('data', onData);
    s.write(text);
  });
}

/** A minimal WebSocket client: handshake, one masked text frame out, one text frame back. */
function wsEcho(s: Socket, target: string, host: string, message: string): Promise<string> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) return reject(new Error(head));
        upgraded = true;
        buf = buf.subarray(end + 4);
        const payload = Buffer.from(message);
        const mask = randomBytes(4);
        const masked = payload.map((b, i) => b ^ mask[i % 4]!);
        s.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      if (buf.length >= 2 && buf.length >= 2 + (buf[1]! & 0x7f)) {
        resolve(buf.subarray(2, 2 + (buf[1]! & 0x7f)).toString());
        s.destroy();
      }
    });
    s.on('error', reject);
    s.write(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
