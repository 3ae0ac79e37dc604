/**
 * Opt-in body logging: what is captured (text only, capped, decompressed), how it is redacted,
 * and, through a real gateway on loopback, that bodies reach the audit log only when asked for.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEntry, createAuditLog } from '../../src/gateway/audit.js';
import { BODY_LOG_LIMIT, BodyCapture } from '../../src/gateway/bodies.js';
import { buildPolicy } from '../../src/gateway/policy.js';
import { type Gateway, startGateway } from '../../src/gateway/proxy.js';
import { createRedactor, REDACTED } from '../../src/gateway/redact.js';

// Assembled at run time: key shapes that exist nowhere in the repository.
const anthropicKey = () => `sk-ant-api03-${randomBytes(20).toString('hex')}`;
const opaque = () => `opaque-${randomBytes(10).toString('hex')}`;

describe('body redaction', () => {
  const held = opaque();
  const r = createRedactor([held]);

  it('hides JSON fields named like secrets, at any depth, and token shapes anywhere', () => {
    const key = anthropicKey();
    const body = JSON.stringify({
      model: 'm',
      max_tokens: 1024,
      api_key: opaque(),
      auth: { user: 'me', nested: ['a', 'b'] },
      messages: [{ role: 'user', content: `use ${key} please` }],
      note: `held ${held}`,
    });
    const out = JSON.parse(r.body(body));
    expect(out).toEqual({
      model: 'm',
      max_tokens: 1024,
      api_key: REDACTED,
      auth: { user: REDACTED, nested: [REDACTED, REDACTED] },
      messages: [{ role: 'user', content: `use ${REDACTED} please` }],
      note: `held ${REDACTED}`,
    });
  });

  it('redacts JSON that does not parse whole: cut at the limit, or an event stream', () => {
    const secret = opaque();
    const cut = `{"client_secret": "${secret}", "text": "hello", "password":"p\\"w`;
    const out = r.body(cut);
    expect(out).toContain(`"client_secret": "${REDACTED}"`);
    expect(out).toContain('"text": "hello"');
    expect(out).not.toContain(secret);
    const sse = `event: x\ndata: {"session_token":"${secret}","delta":"hi"}\n\n`;
    expect(r.body(sse)).toBe(`event: x\ndata: {"session_token":"${REDACTED}","delta":"hi"}\n\n`);
  });

  it('treats a form body as a query string', () => {
    const secret = opaque();
    expect(r.body(`user=me&password=${secret}&page=2`)).toBe(`user=me&password=${REDACTED}&page=2`);
  });

  it('leaves ordinary text alone', () => {
    expect(r.body('just some text, 42 tokens')).toBe('just some text, 42 tokens');
  });
});

describe('body capture', () => {
  it('keeps text up to the limit and says it was cut', async () => {
    const c = new BodyCapture();
    c.add(Buffer.alloc(BODY_LOG_LIMIT - 10, 'a'));
    c.add(Buffer.from('b'.repeat(100)));
    const out = await c.result({ 'content-type': 'text/plain' });
    expect(out).toEqual({ text: `${'a'.repeat(BODY_LOG_LIMIT - 10)}${'b'.repeat(10)}`, truncated: true });
    expect(c.total).toBe(BODY_LOG_LIMIT + 90);
  });

  it('leaves out binary bodies, by type or by content', async () => {
    const png = new BodyCapture();
    png.add(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(await png.result({ 'content-type': 'image/png' })).toEqual({ omitted: 'not text (image/png)' });
    const untyped = new BodyCapture();
    untyped.add(Buffer.from([0x00, 0xff, 0xfe, 0x41]));
    expect(await untyped.result({})).toEqual({ omitted: 'not text' });
    expect(await new BodyCapture().result({ 'content-type': 'text/plain' })).toBeUndefined();
  });

  it('decompresses gzip, even a body cut at the limit', async () => {
    const text = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => `item-${i}`) });
    const gz = gzipSync(text);
    const whole = new BodyCapture();
    whole.add(gz);
    expect(await whole.result({ 'content-type': 'application/json', 'content-encoding': 'gzip' })).toEqual({
      text: text.slice(0, BODY_LOG_LIMIT),
      truncated: true,
    });
    const unknown = new BodyCapture();
    unknown.add(Buffer.from('x'));
    expect(await unknown.result({ 'content-encoding': 'zstd' })).toEqual({
      omitted: 'content-encoding zstd',
    });
  });

  it('stops decoding a compression bomb at the limit', async () => {
    const bomb = new BodyCapture();
    bomb.add(gzipSync(Buffer.alloc(200 * 1024 * 1024, 'a')));
    const out = await bomb.result({ 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    expect(out).toEqual({ text: 'a'.repeat(BODY_LOG_LIMIT), truncated: true });
  });
});

describe('audit log with bodies', () => {
  it('redacts body text on the way out', async () => {
    const out = new PassThrough();
    const held = opaque();
    const log = createAuditLog(out, { secrets: [held] });
    log.write({
      method: 'POST',
      host: 'h',
      port: 80,
      status: 200,
      bytesIn: 1,
      bytesOut: 1,
      decision: 'allow',
      durationMs: 1,
      requestBody: { text: `{"token":"abc","q":"${held}"}` },
      responseBody: { omitted: 'not text (image/png)' },
    });
    const line = JSON.parse(out.read().toString()) as AuditEntry;
    expect(line.requestBody).toEqual({ text: `{"token":"${REDACTED}","q":"${REDACTED}"}` });
    expect(line.responseBody).toEqual({ omitted: 'not text (image/png)' });
  });
});

describe('gateway body logging', () => {
  let upstream: Server;
  let gw: Gateway;
  const audit = new PassThrough();
  const lines: AuditEntry[] = [];
  let releaseSse: () => void = () => {};

  beforeAll(async () => {
    upstream = createServer((req: IncomingMessage, res) => {
      if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        // Ends once the client has the first event (or after a fallback, so a buffering proxy
        // shows as the wrong order rather than a hang).
        const fallback = setTimeout(() => releaseSse(), 3000);
        new Promise<void>((r) => {
          releaseSse = r;
        }).then(() => {
          clearTimeout(fallback);
          res.end('data: last\n\n');
        });
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echo: Buffer.concat(chunks).toString() }));
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    audit.on('data', (c: Buffer) => {
      for (const l of c.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as AuditEntry);
    });
    gw = await startGateway({
      policy: buildPolicy({
        preset: 'agent',
        rules: [{ action: 'allow', host: 'echo.test', port: '*' }],
        intercept: [],
      }),
      resolve: async () => ['127.0.0.1'],
      audit,
    });
  });
  afterAll(async () => {
    await gw.close();
    upstream.close();
  });

  async function post(body: string): Promise<AuditEntry> {
    const before = lines.length;
    const port = (upstream.address() as AddressInfo).port;
    const req = request({
      host: '127.0.0.1',
      port: gw.port,
      method: 'POST',
      path: `http://echo.test:${port}/v1/echo`,
      headers: { 'content-type': 'application/json' },
    });
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    await once(res, 'end');
    for (let i = 0; i < 100 && lines.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    return lines.at(-1)!;
  }

  it('logs no body by default, and redacted bodies once turned on', async () => {
    const key = anthropicKey();
    const body = JSON.stringify({ prompt: `here is ${key}`, api_key: opaque() });
    const off = await post(body);
    expect(off.status).toBe(200);
    expect(off).not.toHaveProperty('requestBody');
    expect(off).not.toHaveProperty('responseBody');

    gw.setBodyLogging(true);
    const on = await post(body);
    expect(on.requestBody).toEqual({
      text: JSON.stringify({ prompt: `here is ${REDACTED}`, api_key: REDACTED }),
    });
    expect(on.responseBody && 'text' in on.responseBody && on.responseBody.text).toContain(
      `here is ${REDACTED}`,
    );
    expect(JSON.stringify(on)).not.toContain(key);
    // Byte counts are the whole bodies', whatever was logged.
    expect(on.bytesOut).toBe(Buffer.byteLength(body));

    gw.setBodyLogging(false);
    expect(await post(body)).not.toHaveProperty('requestBody');
  });

  it('keeps an event stream unbuffered while logging it', async () => {
    gw.setBodyLogging(true);
    try {
      const before = lines.length;
      const port = (upstream.address() as AddressInfo).port;
      const req = request({ host: '127.0.0.1', port: gw.port, path: `http://echo.test:${port}/sse` });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const seen: string[] = [];
      res.on('data', (c: Buffer) => {
        seen.push(c.toString());
        if (seen.length === 1) {
          seen.push('client-got-first');
          releaseSse();
        }
      });
      await once(res, 'end');
      expect(seen.slice(0, 2)).toEqual(['data: first\n\n', 'client-got-first']);
      for (let i = 0; i < 100 && lines.length === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(lines.at(-1)?.responseBody).toEqual({ text: 'data: first\n\ndata: last\n\n' });
    } finally {
      gw.setBodyLogging(false);
    }
  });
});
