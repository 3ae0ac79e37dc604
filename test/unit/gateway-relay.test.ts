import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RELAY_SERVER, relayTo } from '../../src/gateway/relay.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen(onConnection: (s: Socket) => void, options = {}): Promise<number> {
  const server = createServer(options, onConnection);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Read everything until the far end closes, pausing now and then like a slow consumer. */
function readAll(socket: Socket, stutter: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (stutter && ++n % 7 === 0) {
        socket.pause();
        setTimeout(() => socket.resume(), 5);
      }
    });
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

describe('relayTo (the gateway and forwarder relays)', () => {
  it('delivers every byte, in order, to a slow reader, and passes the orderly end on', async () => {
    // Reading reuses one buffer: were it overwritten while a write to a slow reader still holds it,
    // the bytes would arrive changed.
    const payload = randomBytes(12 * 1024 * 1024);
    const upstream = await listen((s) => s.end(payload));
    const relay = await listen(
      (client) => relayTo(client, { port: upstream, host: '127.0.0.1' }),
      RELAY_SERVER,
    );
    const got = await readAll(connect(relay, '127.0.0.1'), true);
    expect(got.length).toBe(payload.length);
    expect(sha(got)).toBe(sha(payload));
  });

  it('relays uploads too, and the answer after them', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const upstream = await listen(
      (s) => {
        const h = createHash('sha256');
        s.on('data', (c: Buffer) => h.update(c));
        s.on('end', () => s.end(h.digest('hex')));
      },
      { allowHalfOpen: true },
    );
    const relay = await listen(
      (client) => relayTo(client, { port: upstream, host: '127.0.0.1' }),
      RELAY_SERVER,
    );
    const c = connect(relay, '127.0.0.1');
    c.end(payload);
    expect((await readAll(c, false)).toString()).toBe(sha(payload));
  });

  it('closes the client when the far side cannot be reached', async () => {
    const closed = await listen(() => {});
    servers.pop()?.close();
    const relay = await listen((client) => relayTo(client, { port: closed, host: '127.0.0.1' }));
    const c = connect(relay, '127.0.0.1');
    const outcome = await new Promise<string>((resolve) => {
      c.on('end', () => resolve('end'));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(['end', 'ECONNRESET']).toContain(outcome);
  });
});
