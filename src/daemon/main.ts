/**
 * `corral daemon` itself (started by `corral daemon start`, see core/daemon-control.ts): one per
 * user, on a 0600 Unix socket, and on HTTP when asked (loopback unless --public). It serves the
 * core's use-cases to the CLI and the web UI and streams events.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { getRequestListener } from '@hono/node-server';
import {
  BUILD_ID,
  type DaemonState,
  daemonPaths,
  daemonStatus,
  ensureToken,
  reapWarmLeftovers,
  splitListen,
  sshServiceWanted,
} from '../core/index.js';
import { CorralError, isCorralError } from '../errors.js';
import { createApp, type DaemonContext } from './app.js';
import { EventBus } from './events.js';
import { SandboxSnapshot } from './snapshot.js';
import { upgrades } from './sockets.js';
import { UseCases } from './use-cases.js';
import { startWatching } from './watch.js';

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function listenOn(server: Server, target: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof target === 'string') server.listen(target, resolve);
    else server.listen(target.port, target.host, resolve);
  });
}

/**
 * Idle connections are kept longer than clients keep theirs (undici: 4 s, browsers: longer but
 * they retry), so a client never sends a request on a connection the daemon is closing at that
 * moment ("other side closed", seen in bench/daemon-start with Node's default of 5 s).
 */
const serverOptions = { keepAliveTimeout: 65_000 };

const loopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

export async function runDaemon(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { listen: { type: 'string' }, public: { type: 'boolean', default: false } },
  });
  const paths = daemonPaths(process.env);
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  let tcp: { host: string; port: number } | undefined;
  if (values.listen) {
    const [host, port] = splitListen(values.listen);
    if (!loopback(host) && !values.public) {
      throw new CorralError(
        'BAD_INPUT',
        `--listen ${values.listen} is not a loopback address: anyone who can reach it could try the token.`,
        'Use 127.0.0.1:PORT, or add --public if you mean it.',
      );
    }
    if (!loopback(host)) log(`WARNING: listening on ${host}, reachable from other machines (--public)`);
    tcp = { host, port: Number(port) };
  }
  // Another daemon answering on the socket wins; a socket nobody answers on is a crash's leftover.
  if ((await daemonStatus(paths)).running) {
    throw new CorralError(
      'DAEMON_FAILED',
      `A daemon already runs on ${paths.socket}.`,
      'See `corral daemon status`.',
    );
  }
  await rm(paths.socket, { force: true });
  const token = await ensureToken(paths.tokenFile);
  const bus = new EventBus();
  let url: string | undefined;
  let stopping: (() => void) | undefined;
  const uc = new UseCases(process.env, process.cwd());
  const d: DaemonContext = {
    uc,
    sandboxes: new SandboxSnapshot(() => uc.sandboxes()),
    bus,
    token,
    version: pkg.version,
    build: BUILD_ID,
    url: () => url,
    attached: () => sockets.attached(),
    shutdown: () => stopping?.(),
  };
  const sockets = upgrades(d);
  const listener = getRequestListener(createApp(d).fetch);
  const servers: Server[] = [];
  const unix = createServer(serverOptions, listener);
  unix.on('upgrade', (req, socket, head) => sockets.handle(req, socket, head, []));
  await listenOn(unix, paths.socket);
  await chmod(paths.socket, 0o600);
  servers.push(unix);
  if (tcp) {
    const http = createServer(serverOptions, listener);
    await listenOn(http, tcp);
    const addr = http.address() as { port: number };
    const host = isIP(tcp.host) === 6 ? `[${tcp.host}]` : tcp.host;
    url = `http://${host}:${addr.port}`;
    const origins = [url, ...(tcp.host === '127.0.0.1' ? [`http://localhost:${addr.port}`] : [])];
    http.on('upgrade', (req, socket, head) => sockets.handle(req, socket, head, origins));
    servers.push(http);
  }
  const state: DaemonState = {
    pid: process.pid,
    version: pkg.version,
    build: BUILD_ID,
    socket: paths.socket,
    ...(url ? { url } : {}),
    tokenFile: paths.tokenFile,
    started: new Date().toISOString(),
  };
  await writeFile(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  const stopWatching = startWatching(d);
  // SSH for editors, once `corral ssh-config` has turned it on: the written config stays valid.
  if (sshServiceWanted(process.env)) uc.ssh().catch((e: Error) => log(`ssh: not started: ${e.message}`));
  const stopSshRefresh = bus.subscribe((e) => {
    if (e.type === 'sandbox.started' || e.type === 'sandbox.exited')
      uc.refreshSsh().catch((err: Error) => log(`ssh: config not rewritten: ${err.message}`));
  });
  // Detached runs' bridges a daemon served before this one (stopped or killed): served again.
  void uc.bridges
    .resume()
    .then((n) => n && log(`serving ${n} detached run(s)' host bridge again`))
    .catch((e: Error) => log(`bridges: not served again: ${e.message}`));
  // Warm sandboxes a killed daemon left: not anyone's any more.
  void uc
    .engine()
    .then((e) => reapWarmLeftovers(e))
    .then((n) => n && log(`removed ${n} warm sandbox(es) left by a daemon that is gone`))
    .catch(() => undefined);
  log(`corral daemon ${pkg.version} (${BUILD_ID}) on ${paths.socket}${url ? ` and ${url}` : ''}`);
  return new Promise<number>((resolve) => {
    stopping = () => {
      stopping = undefined;
      log('stopping');
      stopWatching();
      stopSshRefresh();
      void uc.closeSsh();
      sockets.close();
      for (const s of servers) {
        s.close();
        s.closeAllConnections();
      }
      // The warm pool goes before the daemon does: no warm sandbox outlives it. Bridge sessions
      // close their sockets and stay for the next daemon, which serves them again.
      void Promise.all([uc.warm.drain(), uc.bridges.suspend()])
        .catch((e: Error) => log(`warm pool: ${e.message}`))
        .then(() => Promise.all([rm(paths.socket, { force: true }), rm(paths.stateFile, { force: true })]))
        .then(() => resolve(0));
    };
    process.once('SIGTERM', () => stopping?.());
    process.once('SIGINT', () => stopping?.());
  });
}

/** Entry point for bin/corral-daemon.js: errors are printed once, as for the CLI. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await runDaemon(argv.slice(2));
  } catch (e) {
    if (isCorralError(e)) log(`corral daemon: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}`);
    else log(`corral daemon: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
