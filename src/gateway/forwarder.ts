/**
 * Runs inside a sandbox that has no network at all: its ways out are Unix sockets bind-mounted
 * from the host (the workspace gateway's proxy, the host bridge). This serves each of them on the
 * sandbox's 127.0.0.1:<port>, byte for byte; whatever is at the other end decides.
 *
 * It must run with a bare `node` and nothing else, so it imports only Node built-ins, and it is
 * copied next to the gateway's socket as a .mjs file. Arguments, each repeatable:
 *   --out <port>=<socket>   serve 127.0.0.1:<port>, relaying to <socket> (the proxy, the bridge)
 *   --in <dir> <port>       serve <dir>/<port>.sock, relaying to 127.0.0.1:<port>: the other end
 *                           of a port a relay container publishes on the host
 *   --services <file>       serve each service the file lists on its own loopback address and
 *                           port, relaying to the gateway's socket for it; the file is watched, as
 *                           services start and stop while the sandbox runs
 * It prints "ready" on stdout once everything listens, so the start script can wait for it.
 */
import { chmodSync, readFileSync, rmSync, watch } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';

/** Pipe two sockets together; when the far side refuses, an HTTP client gets a readable 502. */
function splice(client: Socket, upstream: Socket, what: string): void {
  const done = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', done);
  upstream.on('error', (e) => {
    if (!client.destroyed && client.bytesWritten === 0) {
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ncorral: ${what} is not reachable (${e.message}); \`corral doctor\` checks it.\n`,
      );
    }
    upstream.destroy();
  });
  client.on('close', done);
  upstream.on('close', () => client.end());
  client.pipe(upstream).pipe(client);
}

function listening(server: Server, listen: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(() => resolve());
  });
}

const outs: { port: number; socket: string }[] = [];
const ins: { dir: string; port: number }[] = [];
let servicesFile: string | undefined;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') {
    const [port, socket] = (args[++i] ?? '').split('=');
    if (!socket || !Number.isInteger(Number(port))) throw new Error(`bad --out ${args[i]}`);
    outs.push({ port: Number(port), socket });
  } else if (args[i] === '--in') {
    const dir = args[++i];
    const port = Number(args[++i]);
    if (!dir || !Number.isInteger(port)) throw new Error('bad --in');
    ins.push({ dir, port });
  } else if (args[i] === '--services') {
    servicesFile = args[++i];
  } else {
    process.stderr.write(`usage: forwarder.mjs [--out PORT=SOCKET]… [--in DIR PORT]… [--services FILE]\n`);
    process.exit(2);
  }
}

const ready: Promise<void>[] = [];
for (const o of outs) {
  const server = createServer({ noDelay: true }, (c) =>
    splice(c, connect(o.socket), `the host side of port ${o.port}`),
  );
  ready.push(listening(server, (done) => server.listen(o.port, '127.0.0.1', done)));
}
for (const i of ins) {
  const path = `${i.dir}/${i.port}.sock`;
  rmSync(path, { force: true });
  const server = createServer((c) => splice(c, connect(i.port, '127.0.0.1'), `sandbox port ${i.port}`));
  // The relay container runs under another uid.
  ready.push(
    listening(server, (done) =>
      server.listen(path, () => {
        chmodSync(path, 0o666);
        done();
      }),
    ),
  );
}
/** address:port → its listening server, for the services currently in the file. */
const serving = new Map<string, Server>();

function syncServices(file: string): void {
  let routes: { address: string; port: number; socket: string }[] = [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { services?: typeof routes };
    routes = Array.isArray(parsed.services) ? parsed.services : [];
  } catch {
    // Missing or mid-write: keep what is served; the next change event reads it again.
    return;
  }
  const wanted = new Map(
    routes
      .filter(
        (r) =>
          /^127\.\d+\.\d+\.\d+$/.test(r.address) && Number.isInteger(r.port) && /^[\w.-]+$/.test(r.socket),
      )
      .map((r) => [`${r.address}:${r.port}`, r]),
  );
  for (const [key, server] of serving) {
    if (!wanted.has(key)) {
      server.close();
      serving.delete(key);
    }
  }
  for (const [key, r] of wanted) {
    if (serving.has(key)) continue;
    const socket = join(dirname(file), r.socket);
    const server = createServer({ noDelay: true }, (c) => splice(c, connect(socket), `service ${key}`));
    // Kept in the map even so: retrying every second would not make the address bindable.
    server.on('error', (e) => process.stderr.write(`corral forwarder: cannot serve ${key}: ${e.message}\n`));
    server.listen(r.port, r.address);
    serving.set(key, server);
  }
}

if (servicesFile) {
  const file = servicesFile;
  syncServices(file);
  // inotify on the folder sees the host's rename at once; the poll covers mounts where it can't.
  try {
    watch(dirname(file), () => syncServices(file)).on('error', () => {});
  } catch {}
  setInterval(() => syncServices(file), 1000).unref();
}

Promise.all(ready).then(
  () => process.stdout.write('ready\n'),
  (e: Error) => {
    process.stderr.write(`corral forwarder: ${e.message}\n`);
    process.exit(1);
  },
);
