/**
 * The web UI's event stream client: after a dropped connection it reconnects with `since=<last id>`
 * and hands each event to subscribers once, in order, even when the replay overlaps; after a daemon
 * restart (another pid, ids from 1 again) it starts over and tells pages to reload. Runs the
 * browser module in Node against a real WebSocket server (`ws` stands in for the browser's class).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { CorralEvent } from '../../src/web/lib/types.js';

describe('web event stream', () => {
  let wss: WebSocketServer | undefined;
  const g = globalThis as Record<string, unknown>;
  const realFetch = globalThis.fetch;
  afterEach(() => {
    wss?.close();
    globalThis.fetch = realFetch;
  });

  async function harness(onConnection: (sock: WebSocket, n: number) => void, pids: number[]) {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss!.once('listening', r));
    const port = (wss.address() as AddressInfo).port;
    g.WebSocket = WebSocket;
    g.location = { protocol: 'http:', host: `127.0.0.1:${port}` };
    // /api/version, as the daemon answers it: one pid per connection in `pids`.
    let versions = 0;
    globalThis.fetch = (async () =>
      new Response(
        JSON.stringify({ version: '0', build: 'b', pid: pids[Math.min(versions++, pids.length - 1)] }),
        {
          status: 200,
        },
      )) as typeof fetch;
    const urls: string[] = [];
    wss.on('connection', (sock, req) => {
      urls.push(req.url ?? '');
      onConnection(sock, urls.length);
    });
    const { EventStream } = await import('../../src/web/lib/events.js');
    const stream = new EventStream();
    const seen: CorralEvent[] = [];
    stream.subscribe((e) => seen.push(e));
    return { stream, seen, urls };
  }

  const ev = (id: number) => JSON.stringify({ id, type: 'notification', time: 'T', data: { n: id } });
  const wait = async (cond: () => boolean) => {
    const end = Date.now() + 4000;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  };

  it('reconnects with since=<last id> and delivers each event once', async () => {
    const { stream, seen, urls } = await harness(
      (sock, n) => {
        if (n === 1) {
          sock.send(ev(1));
          sock.send(ev(2));
          // The connection drops without a close handshake.
          setTimeout(() => sock.terminate(), 50);
        } else {
          // The replay from `since` may repeat what the client saw; then a new event.
          sock.send(ev(2));
          sock.send(ev(3));
        }
      },
      [7],
    );
    const states: string[] = [];
    stream.onState((s) => states.push(s));
    stream.start();
    await wait(() => seen.length >= 3);
    stream.stop();
    expect(seen.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(urls).toEqual(['/api/events', '/api/events?since=2']);
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
  });

  it('after a daemon restart (ids from 1 again) starts over and asks pages to reload', async () => {
    const { stream, seen, urls } = await harness(
      (sock, n) => {
        if (n === 1) {
          for (const id of [1, 2, 3]) sock.send(ev(id));
          setTimeout(() => sock.terminate(), 50);
        } else sock.send(ev(1));
      },
      [7, 8],
    );
    stream.start();
    await wait(() => seen.length >= 5);
    stream.stop();
    expect(seen.map((e) => `${e.type}:${e.id}`)).toEqual([
      'notification:1',
      'notification:2',
      'notification:3',
      'resync:0',
      'notification:1',
    ]);
    expect(urls).toEqual(['/api/events', '/api/events']);
  });
});
