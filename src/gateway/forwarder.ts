/**
 * Runs inside a sandbox that has no network at all: its ways out are Unix sockets bind-mounted
 * from the host (the workspace gateway's proxy, the host bridge). This serves each of them on the
 * sandbox's 127.0.0.1:<port>, byte for byte; whatever is at the other end decides.
 *
 * It must run with a bare `node` and nothing else: it is bundled into one file that needs only
 * Node's built-ins, and copied next to the gateway's socket as a .mjs file. Arguments, each
 * repeatable:
 *   --out <port>=<socket>   serve 127.0.0.1:<port>, relaying to <socket> (the proxy, the bridge)
 *   --in <dir> <port>       serve <dir>/<port>.sock, relaying to 127.0.0.1:<port>: the other end
 *                           of a port a relay container publishes on the host
 *   --services <file>       serve each service the file lists on its own loopback address and
 *                           port, relaying to the gateway's socket for it; the file is watched, as
 *                           services start and stop while the sandbox runs
 *   --hold <socket>         keep one idle request open to the gateway at <socket> while this
 *                           sandbox runs: the gateway lingers after its last sandbox, and this is
 *                           how it knows one is still there, however quiet its agent is
 *   --ready <file>          write "ready" to <file> once everything listens (the start script
 *                           waits for it with the shell's own test, no process per look)
 * It also prints "ready" on stdout then. On its own instead:
 *   --connect <socket> <host> <port>   one tunnel through the gateway's CONNECT on stdin/stdout
 *                           (ssh's ProxyCommand; tunnel-client.ts)
 */
import { chmodSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { connectInto } from './read-into.js';
import { runConnect } from './tunnel-client.js';

// A host-side socket that is missing or refusing is usually the gateway (re)starting: a new corral
// version replacing it, or a run starting it. Clients wait that long rather than get a 502.
// Short: a new gateway boots while its first sandbox starts (gateway/container.ts `early`), and a
// request waiting on it should not wait much past its boot.
const RETRY_EVERY_MS = 20;
const RETRY_FOR_MS = 5000;
const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

/**
 * Pipe a client to what `open` connects to; when that refuses (after retrying, if `retry`), an
 * HTTP client gets a readable 502. Nothing the client sent is lost across retries: it is only
 * read once the far side is connected.
 */
function splice(client: Socket, open: (sink: Socket) => Socket, what: string, retry: boolean): void {
  const started = Date.now();
  client.pause();
  client.on('error', () => client.destroy());
  const attempt = () => {
    if (client.destroyed) return;
    const upstream = open(client);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      if (client.destroyed) return void upstream.destroy();
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.end());
      client.pipe(upstream);
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      upstream.destroy();
      if (connected) return void client.destroy();
      const again = retry && RETRYABLE.has(e.code ?? '') && Date.now() - started < RETRY_FOR_MS;
      if (again) return void setTimeout(attempt, RETRY_EVERY_MS);
      if (!client.destroyed) {
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ncorral: ${what} is not reachable (${e.message}); \`corral doctor\` checks it.\n`,
        );
      }
    });
  };
  attempt();
}

function listening(server: Server, listen: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(() => resolve());
  });
}

/** The presence request: open as long as this process lives, re-made if the gateway restarts. */
function hold(socket: string): void {
  const c = connect(socket);
  c.on('connect', () => c.write('GET /corral/presence HTTP/1.1\r\nHost: corral\r\n\r\n'));
  c.on('data', () => {});
  c.on('error', () => {});
  c.on('close', () => setTimeout(() => hold(socket), 1000));
}

const holds: string[] = [];
let readyFile: string | undefined;
const outs: { port: number; socket: string }[] = [];
const ins: { dir: string; port: number }[] = [];
let servicesFile: string | undefined;
let tunnel: { socket: string; host: string; port: number } | undefined;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--connect') {
    tunnel = { socket: args[++i] ?? '', host: args[++i] ?? '', port: Number(args[++i]) };
  } else if (args[i] === '--out') {
    const [port, socket] = (args[++i] ?? '').split('=');
    if (!socket || !Number.isInteger(Number(port))) throw new Error(`bad --out ${args[i]}`);
    outs.push({ port: Number(port), socket });
  } else if (args[i] === '--hold') {
    const socket = args[++i];
    if (!socket) throw new Error('bad --hold');
    holds.push(socket);
  } else if (args[i] === '--in') {
    const dir = args[++i];
    const port = Number(args[++i]);
    if (!dir || !Number.isInteger(port)) throw new Error('bad --in');
    ins.push({ dir, port });
  } else if (args[i] === '--ready') {
    readyFile = args[++i];
  } else if (args[i] === '--services') {
    servicesFile = args[++i];
  } else {
    process.stderr.write(
      `usage: forwarder.mjs [--out PORT=SOCKET]… [--in DIR PORT]… [--services FILE] [--hold SOCKET]… [--ready FILE]\n`,
    );
    process.exit(2);
  }
}

const ready: Promise<void>[] = [];
for (const o of outs) {
  const server = createServer({ noDelay: true }, (c) =>
    splice(c, (sink) => connectInto({ path: o.socket }, sink), `the host side of port ${o.port}`, true),
  );
  ready.push(listening(server, (done) => server.listen(o.port, '127.0.0.1', done)));
}
for (const i of ins) {
  const path = `${i.dir}/${i.port}.sock`;
  rmSync(path, { force: true });
  // No retry: a sandbox port nobody listens on should be refused at once.
  const server = createServer((c) =>
    splice(
      c,
      (sink) => connectInto({ port: i.port, host: '127.0.0.1' }, sink),
      `sandbox port ${i.port}`,
      false,
    ),
  );
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
    const server = createServer({ noDelay: true }, (c) =>
      splice(c, (sink) => connectInto({ path: socket }, sink), `service ${key}`, true),
    );
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

for (const h of holds) hold(h);
if (tunnel) runConnect(tunnel.socket, tunnel.host, tunnel.port);
else
  Promise.all(ready).then(
    () => {
      if (readyFile) writeFileSync(readyFile, 'ready\n');
      process.stdout.write('ready\n');
    },
    (e: Error) => {
      process.stderr.write(`corral forwarder: ${e.message}\n`);
      process.exit(1);
    },
  );
