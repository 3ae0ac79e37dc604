/**
 * Published ports for a sandbox that has no network: a small container on the engine's ordinary
 * network publishes each port and relays every connection to a Unix socket the sandbox's
 * forwarder serves (and which it connects on to the sandbox's own 127.0.0.1:<port>).
 * Usage (in the gateway image): node gateway.mjs relay <port>=<socket> …
 */
import { createServer, type NetConnectOpts, type Socket } from 'node:net';
import { connectInto } from './read-into.js';

/**
 * Connect to `target` and join it with `client` both ways. An orderly end from either side is
 * passed on after what it sent (a client that has finished sending still gets its answer when its
 * server allows half-open sockets: `RELAY_SERVER`); a failure on either side ends both.
 */
export function relayTo(client: Socket, target: NetConnectOpts): Socket {
  const upstream = connectInto({ ...target, allowHalfOpen: true }, client);
  const fail = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', fail);
  upstream.on('error', fail);
  upstream.on('end', () => client.end());
  upstream.on('close', (hadError) => hadError && client.destroy());
  client.on('close', () => upstream.destroy());
  client.pipe(upstream);
  return upstream;
}

/** Options for a server whose connections go to relayTo. */
export const RELAY_SERVER = { noDelay: true, allowHalfOpen: true } as const;

export function runRelay(specs: string[]): void {
  for (const spec of specs) {
    const [portText, socketPath] = spec.split('=');
    const port = Number(portText);
    if (!socketPath || !Number.isInteger(port))
      throw new Error(`bad relay spec "${spec}" (want PORT=SOCKET)`);
    createServer(RELAY_SERVER, (c) => relayTo(c, { path: socketPath })).listen(port, '0.0.0.0');
  }
  process.on('SIGTERM', () => process.exit(0));
}
