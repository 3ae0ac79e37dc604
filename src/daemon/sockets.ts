/**
 * The daemon's two WebSockets: the event stream (replayed from a client's last id) and a sandbox's
 * terminal (its TTY's bytes both ways, resize as a JSON text frame). Upgrades are checked here,
 * before anything is opened: the token (cookie or header) and, for browsers, the Origin.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { DaemonContext } from './app.js';
import { authorized, originAllowed } from './auth.js';

const TERMINAL = /^\/api\/sandboxes\/([A-Za-z0-9_.-]{1,128})\/terminal$/;

export interface Upgrades {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, origins: readonly string[]): void;
  attached(): number;
  close(): void;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function upgrades(d: DaemonContext): Upgrades {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  let attached = 0;
  return {
    attached: () => attached,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
    handle(req, socket, head, origins) {
      const url = new URL(req.url ?? '/', 'http://daemon');
      if (!authorized(req.headers, d.token)) return refuse(socket, 401, 'Unauthorized');
      if (!originAllowed(req.headers.origin, origins)) return refuse(socket, 403, 'Forbidden');
      const terminal = TERMINAL.exec(url.pathname);
      if (url.pathname === '/api/events') {
        const since = Number(url.searchParams.get('since') ?? '0');
        return wss.handleUpgrade(req, socket, head, (ws) =>
          events(d, ws, Number.isFinite(since) ? since : 0),
        );
      }
      if (terminal) {
        return wss.handleUpgrade(req, socket, head, (ws) => {
          attached++;
          ws.once('close', () => attached--);
          terminalSession(d, ws, terminal[1]!).catch((e: Error) => {
            if (ws.readyState === WebSocket.OPEN) ws.close(4000, e.message.slice(0, 120));
          });
        });
      }
      refuse(socket, 404, 'Not Found');
    },
  };
}

function events(d: DaemonContext, ws: WebSocket, since: number): void {
  for (const e of d.bus.since(since)) ws.send(JSON.stringify(e));
  const off = d.bus.subscribe((e) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(e));
  });
  const ping = setInterval(() => ws.ping(), 25_000);
  ws.on('close', () => {
    off();
    clearInterval(ping);
  });
  ws.on('error', () => ws.terminate());
}

async function terminalSession(d: DaemonContext, ws: WebSocket, target: string): Promise<void> {
  // Keys typed while the attach is being made are kept and sent once it is.
  const early: [Buffer, boolean][] = [];
  const keep = (data: Buffer, binary: boolean) => early.push([data, binary]);
  ws.on('message', keep);
  const engine = await d.uc.engine();
  const s = await d.uc.sandbox(target);
  const details = await engine.inspect(s.id);
  if (!details?.running) throw new Error(`${s.name} is not running`);
  const stream = await engine.attach(s.id, { stdin: true, tty: details.tty });
  const out = details.tty ? stream : new PassThrough();
  if (!details.tty) engine.demux(stream, out as PassThrough, out as PassThrough);
  out.on('data', (chunk: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(chunk, { binary: true });
  });
  // The sandbox ended (or the engine hung up): tell the viewer, with the reason as the close text.
  stream.once('close', () => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'the sandbox exited');
  });
  stream.on('error', () => {});
  // In order: keys typed after a resize reach the sandbox after the resize is applied.
  let applied: Promise<unknown> = Promise.resolve();
  const onMessage = (data: Buffer, binary: boolean) => {
    if (binary) {
      applied = applied.then(() => stream.write(data));
      return;
    }
    try {
      const m = JSON.parse(data.toString('utf8')) as { type?: string; cols?: number; rows?: number };
      if (m.type === 'resize' && m.cols && m.rows && details.tty) {
        const cols = Math.min(Math.max(Math.floor(m.cols), 2), 1000);
        const rows = Math.min(Math.max(Math.floor(m.rows), 2), 1000);
        applied = applied.then(() => engine.resize(s.id, rows, cols).catch(() => {}));
      } else if (m.type === 'input' && typeof (m as { data?: unknown }).data === 'string') {
        const text = (m as unknown as { data: string }).data;
        applied = applied.then(() => stream.write(text));
      }
    } catch {}
  };
  ws.off('message', keep);
  ws.on('message', onMessage);
  for (const [data, binary] of early) onMessage(data, binary);
  // The only text frame we send: from here on this viewer sees everything the TTY prints. A page
  // that called itself open at the WebSocket's open missed output printed during the attach.
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'attached' }));
  // Detach without stopping: drop our connection, never send end-of-input to the sandbox's TTY.
  ws.on('close', () => stream.destroy());
}
