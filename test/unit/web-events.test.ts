/**
 * The web UI's event stream client: after a dropped connection it reconnects with `since=<last id>`
 * and hands each event to subscribers once, in order, even when the replay overlaps. Runs the
 * browser module in Node against a real WebSocket server (`ws` stands in for the browser's class).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';

describe('web event stream', () => {
  let wss: WebSocketServer | undefined;
  afterEach(() => wss?.close());

  it('reconnects with since=<last id> and delivers each event once', async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss!.once('listening', r));
    const port = (wss.address() as AddressInfo).port;
    const g = globalThis as Record<string, unknown>;
    g.WebSocket = WebSocket;
    g.location = { protocol: 'http:', host: `127.0.0.1:${port}` };
    const urls: string[] = [];
    const ev = (id: number) => JSON.stringify({ id, type: 'notification', time: 'T', data: { n: id } });
    wss.on('connection', (sock, req) => {
      urls.push(req.url ?? '');
      if (urls.length === 1) {
        sock.send(ev(1));
        sock.send(ev(2));
        // The daemon restarts: the connection drops without a close handshake.
        setTimeout(() => sock.terminate(), 50);
      } else {
        // The replay from `since` may repeat what the client saw; then a new event.
        sock.send(ev(2));
        sock.send(ev(3));
      }
    });
    const { EventStream } = await import('../../src/web/lib/events.js');
    const stream = new EventStream();
    const seen: number[] = [];
    const states: string[] = [];
    stream.onState((s) => states.push(s));
    stream.subscribe((e) => seen.push(e.id));
    stream.start();
    const end = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    stream.stop();
    expect(seen).toEqual([1, 2, 3]);
    expect(urls).toEqual(['/api/events', '/api/events?since=2']);
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
  });
});
