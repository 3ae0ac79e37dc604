/**
 * The in-sandbox forwarder, run as the sandbox runs it (no engine needed, but the build this tier
 * makes first): the Go relay (dist/gateway/corral-relay) and the Node forwarder it falls back to
 * (the built file on a bare node). Each relays byte for byte, waits for a gateway that is still
 * starting instead of failing the request, and answers a readable 502 once it gives up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const FORWARDER = fileURLToPath(new URL('../../dist/gateway/forwarder.bundle.mjs', import.meta.url));
const RELAY = fileURLToPath(new URL('../../dist/gateway/corral-relay', import.meta.url));
const procs: ChildProcess[] = [];
const IMPLEMENTATIONS: [string, string[]][] = [
  ['the Go relay', [RELAY]],
  ['the Node forwarder', [process.execPath, FORWARDER]],
];
let command: string[] = [];

async function forwarder(args: string[]): Promise<void> {
  const p = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  for await (const line of createInterface({ input: p.stdout! })) if (line === 'ready') return;
  throw new Error('the forwarder exited before it was ready');
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function get(port: number): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/x', method: 'POST' }, (res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - t0 }));
    })
      .on('error', reject)
      .end('payload-1');
  });
}

afterEach(() => {
  for (const p of procs.splice(0)) p.kill();
});

describe.each(IMPLEMENTATIONS)('%s', (_name, cmd) => {
  beforeEach(() => {
    command = cmd;
  });

  it('holds a request until the gateway socket appears, and loses none of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-fwd-'));
    const sock = join(dir, 'proxy.sock');
    const port = await freePort();
    await forwarder(['--out', `${port}=${sock}`]);
    const pending = get(port);
    await new Promise((r) => setTimeout(r, 600));
    // The gateway starts only now.
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', () => res.end(`got ${req.method} ${req.url} ${body}`));
    }).listen(sock);
    try {
      const r = await pending;
      expect(r).toMatchObject({ status: 200, body: 'got POST /x payload-1' });
      expect(r.ms).toBeGreaterThanOrEqual(550);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives up with a readable 502 when nothing comes', async () => {
    const port = await freePort();
    await forwarder(['--out', `${port}=/nonexistent/corral/proxy.sock`]);
    const r = await get(port);
    expect(r.status).toBe(502);
    expect(r.body).toContain('the host side of port');
    expect(r.ms).toBeGreaterThanOrEqual(4500);
  }, 15_000);
});
