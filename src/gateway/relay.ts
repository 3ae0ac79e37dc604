/**
 * Published ports for a sandbox that has no network: a small container on the engine's ordinary
 * network publishes each port and relays every connection to a Unix socket the sandbox's
 * forwarder serves (and which it connects on to the sandbox's own 127.0.0.1:<port>).
 * Usage (in the gateway image): node gateway.mjs relay <port>=<socket> …
 */
import { connect, createServer, type Socket } from 'node:net';

/** Join two sockets both ways; either side closing or failing ends both. */
export function joinSockets(client: Socket, upstream: Socket): void {
  const done = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', done);
  upstream.on('error', done);
  client.on('close', done);
  upstream.on('close', done);
  client.pipe(upstream).pipe(client);
}

const pipeTo = (socketPath: string, client: Socket) => joinSockets(client, connect(socketPath));

export function runRelay(specs: string[]): void {
  for (const spec of specs) {
    const [portText, socketPath] = spec.split('=');
    const port = Number(portText);
    if (!socketPath || !Number.isInteger(port))
      throw new Error(`bad relay spec "${spec}" (want PORT=SOCKET)`);
    createServer({ noDelay: true }, (c) => pipeTo(socketPath, c)).listen(port, '0.0.0.0');
  }
  process.on('SIGTERM', () => process.exit(0));
}
