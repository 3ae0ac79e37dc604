/**
 * Runs inside a sandbox that has no network at all (`--network none`): the one way out is the
 * workspace gateway's Unix socket, bind-mounted from the host. This relays the sandbox's
 * 127.0.0.1:<port> (what HTTP_PROXY names) to that socket, byte for byte; the gateway decides.
 *
 * It must run with a bare `node` and nothing else, so it imports only Node built-ins, and it is
 * copied next to the socket as a .mjs file.
 * Usage: node forwarder.mjs <socket> <port> [<inbound-dir> <sandbox-port>…]
 * With an inbound folder it also serves <inbound-dir>/<p>.sock for each sandbox port p, relaying
 * to 127.0.0.1:<p>: the other end of the ports a relay container publishes on the host.
 * It prints "ready" on stdout once listening, so the sandbox's start script can wait for it.
 */
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

const [socketPath, portText, inboundDir, ...inbound] = process.argv.slice(2);
const port = Number(portText ?? '3128');

if (!socketPath || !Number.isInteger(port)) {
  process.stderr.write('usage: forwarder.mjs <socket> <port>\n');
  process.exit(2);
}

function relay(client: Socket): void {
  const upstream = connect(socketPath!);
  const done = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', done);
  upstream.on('error', (e) => {
    // A refused socket means the gateway is down: say so in HTTP, so the agent shows a reason.
    if (!client.destroyed && client.bytesWritten === 0) {
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ncorral: the egress gateway is not reachable (${e.message}); \`corral doctor\` checks it.\n`,
      );
    }
    upstream.destroy();
  });
  client.pipe(upstream).pipe(client);
  client.on('close', done);
  upstream.on('close', () => client.end());
}

const server = createServer({ noDelay: true }, relay);
server.on('error', (e) => {
  process.stderr.write(`corral forwarder: ${e.message}\n`);
  process.exit(1);
});
// Inbound: the relay container connects to these sockets; each connection goes to a sandbox port.
for (const p of inboundDir ? inbound : []) {
  const path = `${inboundDir}/${p}.sock`;
  rmSync(path, { force: true });
  createServer((c) => {
    const local = connect(Number(p), '127.0.0.1');
    const done = () => {
      c.destroy();
      local.destroy();
    };
    c.on('error', done);
    local.on('error', done);
    c.on('close', done);
    local.on('close', done);
    c.pipe(local).pipe(c);
  }).listen(path, () => chmodSync(path, 0o666));
}

server.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
