#!/usr/bin/env node
/**
 * Egress gateway overhead: the same loopback upstream reached directly and through the gateway, in
 * one run, interleaved so machine noise hits both. The upstream and the gateway each run in their
 * own process (as in production, where the gateway is its own container), the client in this one.
 * Three gateway paths against their direct equivalent, and a reference:
 *   plain      HTTP via an absolute-URI proxy request          vs direct HTTP
 *   intercept  HTTPS via CONNECT + TLS interception (agents)    vs direct HTTPS
 *   tunnel     HTTPS via CONNECT splice (no interception)       vs direct HTTPS
 *   relay      plain HTTP through a bare TCP relay (the gateway's own relayTo: no HTTP, no policy):
 *              the cheapest extra hop a Node proxy can be, so the gateway's ratios have a yardstick
 *   crelay     the same through bench/relay.c, a C read/write relay (built with `cc`; skipped
 *              without one): the cheapest hop any userspace proxy can be
 * Workloads: small requests (sequential latency p50/p99, and req/s at concurrency 16), a 10 MB
 * download (MB/s), and time to the first SSE event. Keep-alive everywhere, as real clients do.
 * Options:
 *   --forwarder   put the in-sandbox forwarder in front, as in production: client → 127.0.0.1 TCP →
 *                 forwarder → Unix socket → gateway (by default the client reaches the gateway on TCP)
 *   --link MB/s   pace the upstream's download to this rate, as a network link would; unpaced, the
 *                 download measures CPU per byte on loopback, where direct needs no copy in between
 *   --workloads   any of small,big,sse
 *   --malloc-default  run the gateway without its container's malloc settings (tuning.ts), to
 *                 see what they buy
 * Imports the gateway from dist/: run `npm run build` first.
 *
 *   node bench/gateway.mjs [--requests 1000] [--downloads 10] [--sse 200] [--paths plain,intercept,tunnel,relay,crelay]
 *                          [--workloads small,big,sse] [--forwarder] [--link 100]
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cRelay, procUsage } from './crelay.mjs';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    dir: { type: 'string' },
    requests: { type: 'string', default: '1000' },
    downloads: { type: 'string', default: '10' },
    sse: { type: 'string', default: '200' },
    paths: { type: 'string', default: 'plain,intercept,tunnel' },
    workloads: { type: 'string', default: 'small,big,sse' },
    forwarder: { type: 'boolean', default: false },
    link: { type: 'string' },
    'malloc-default': { type: 'boolean', default: false },
    port: { type: 'string' },
  },
});
const dist = new URL('../dist/gateway/index.js', import.meta.url);
const tuning = new URL('../dist/gateway/tuning.js', import.meta.url);
const forwarderJs = new URL('../dist/gateway/forwarder.bundle.mjs', import.meta.url);
const BIG = 10 * 1024 * 1024;
const NAMES = {
  'intercept.bench': ['127.0.0.1'],
  'tunnel.bench': ['127.0.0.1'],
  'plain.bench': ['127.0.0.1'],
};

// --- the client ---
function child(role, dir, extra = [], env = process.env) {
  return fork(new URL(import.meta.url), ['--role', role, '--dir', dir, ...extra], { stdio: 'inherit', env });
}

async function freePort() {
  const s = http.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The in-sandbox forwarder, serving 127.0.0.1:<port> and relaying to the gateway's socket. */
async function startForwarder(socket) {
  const port = await freePort();
  const p = spawn(process.execPath, [fileURLToPath(forwarderJs), '--out', `${port}=${socket}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: p.stdout })) if (line === 'ready') break;
  return { port, proc: p };
}

/** An https.Agent that reaches its hosts through the gateway with CONNECT, keeping tunnels alive. */
class TunnelAgent extends https.Agent {
  constructor(proxyPort, ca) {
    super({ keepAlive: true, ca });
    this.proxyPort = proxyPort;
  }
  createConnection(options, cb) {
    const req = http.request({
      host: '127.0.0.1',
      port: this.proxyPort,
      method: 'CONNECT',
      path: `${options.host}:${options.port}`,
      agent: false,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return cb(new Error(`CONNECT ${options.host}: ${res.statusCode}`));
      cb(null, tls.connect({ socket, servername: options.host, ca: options.ca }));
    });
    req.on('error', cb);
    req.end();
  }
}

const pinned = (_h, o, cb) =>
  o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);

function get(client, path, onFirstByte) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first;
    let bytes = 0;
    const req = client.request(path, (res) => {
      res.on('data', (c) => {
        first ??= performance.now() - t0;
        bytes += c.length;
        if (onFirstByte && bytes === c.length) onFirstByte();
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${path}: HTTP ${res.statusCode}`));
        resolve({ ms: performance.now() - t0, first, bytes });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Clients for one path: `direct` and `gateway`, each a function (path) => request options. */
function clients(path, ports, gwPort, upstreamCa, gatewayCa, relayPorts) {
  const relayPort = relayPorts[path];
  if (relayPort) {
    const [da, ra] = [0, 0].map(() => new http.Agent({ keepAlive: true, maxSockets: 16 }));
    return {
      direct: {
        request: (p, cb) => http.request({ host: '127.0.0.1', port: ports.http, path: p, agent: da }, cb),
      },
      gateway: {
        request: (p, cb) => http.request({ host: '127.0.0.1', port: relayPort, path: p, agent: ra }, cb),
      },
    };
  }
  if (path === 'plain') {
    const mk = () => new http.Agent({ keepAlive: true, maxSockets: 16 });
    const [da, ga] = [mk(), mk()];
    const origin = `http://plain.bench:${ports.http}`;
    return {
      direct: {
        request: (p, cb) =>
          http.request({ host: 'plain.bench', port: ports.http, path: p, agent: da, lookup: pinned }, cb),
      },
      gateway: {
        request: (p, cb) =>
          http.request({ host: '127.0.0.1', port: gwPort, path: `${origin}${p}`, agent: ga }, cb),
      },
    };
  }
  const host = `${path}.bench`;
  const da = new https.Agent({ keepAlive: true, maxSockets: 16, ca: upstreamCa });
  const ga = new TunnelAgent(gwPort, path === 'intercept' ? gatewayCa : upstreamCa);
  ga.maxSockets = 16;
  return {
    direct: {
      request: (p, cb) => https.request({ host, port: ports.https, path: p, agent: da, lookup: pinned }, cb),
    },
    gateway: { request: (p, cb) => https.request({ host, port: ports.https, path: p, agent: ga }, cb) },
  };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function sequential(client, path, n) {
  const ms = [];
  const first = [];
  for (let i = 0; i < n; i++) {
    const r = await get(client, path);
    ms.push(r.ms);
    first.push(r.first);
  }
  return { ms, first };
}

async function concurrent(client, total, concurrency) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await get(client, '/small');
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

/** Run `fn` for direct and gateway alternately in `rounds` rounds; collect both. */
async function interleaved(c, rounds, fn) {
  const out = { direct: [], gateway: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? ['gateway', 'direct'] : ['direct', 'gateway'])
      out[side].push(await fn(c[side]));
  }
  return out;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'corral-bench-gw-'));
  const up = child('upstream', dir, values.link ? ['--link', values.link] : []);
  const [ports] = await once(up, 'message');
  // The gateway runs as its container runs it: same malloc settings.
  const { GATEWAY_PROCESS_ENV } = await import(tuning);
  const gwProc = child('gateway', dir, values.forwarder ? ['--forwarder'] : [], {
    ...process.env,
    ...(values['malloc-default'] ? {} : GATEWAY_PROCESS_ENV),
  });
  gwProc.send({ upstreamCa: ports.ca });
  const [gw] = await once(gwProc, 'message');
  const paths = values.paths.split(',');
  const procs = [up, gwProc];
  const relays = {};
  const relayPorts = {};
  if (paths.includes('relay')) {
    relays.relay = child('relay', dir, ['--port', String(ports.http)]);
    procs.push(relays.relay);
    [relayPorts.relay] = await once(relays.relay, 'message');
  }
  if (paths.includes('crelay')) {
    const c = await cRelay(dir, ports.http);
    if (c) {
      relays.crelay = c.proc;
      relayPorts.crelay = c.port;
      procs.push(c.proc);
    } else paths.splice(paths.indexOf('crelay'), 1);
  }
  if (values.forwarder) {
    const fw = await startForwarder(gw.socket);
    procs.push(fw.proc);
    gw.port = fw.port;
  }
  const n = Number(values.requests);
  const work = new Set(values.workloads.split(','));
  const med = (xs) => pct(xs, 50);
  const rows = [];
  const notes = [];
  const row = (path, metric, d, g, unit, higherIsBetter) =>
    rows.push({
      path,
      metric,
      direct: `${d.toFixed(2)} ${unit}`,
      gateway: `${g.toFixed(2)} ${unit}`,
      'gateway/direct': +(g / d).toFixed(2),
      delta: higherIsBetter
        ? `${((g / d - 1) * 100).toFixed(1)}%`
        : `${g >= d ? '+' : ''}${(g - d).toFixed(2)} ms`,
    });
  try {
    for (const path of paths) {
      const c = clients(path, ports, gw.port, ports.ca, gw.ca, relayPorts);
      await interleaved(c, 2, (cl) => sequential(cl, '/small', 50)); // warm-up: connections, leaves
      if (work.has('small')) await smallRows(path, c);
      if (work.has('big')) await bigRows(path, c);
      if (work.has('sse')) await sseRows(path, c);
    }
  } finally {
    for (const p of procs) p.kill();
  }
  console.log(
    `gateway: same loopback upstream, direct vs through the gateway${values.forwarder ? ' behind the in-sandbox forwarder' : ''} ` +
      `(interleaved; ${n} small requests per side, ${values.downloads} downloads, ${values.sse} SSE streams` +
      `${values.link ? `; download paced to ${values.link} MB/s` : ''}). Targets: +<=2 ms p50, >=90% throughput.`,
  );
  console.table(rows);
  for (const n of notes) console.log(n);

  async function smallRows(path, c) {
    const small = await interleaved(c, 10, (cl) => sequential(cl, '/small', Math.ceil(n / 10)));
    const lat = (side) => small[side].flatMap((x) => x.ms);
    row(path, 'small p50', pct(lat('direct'), 50), pct(lat('gateway'), 50), 'ms');
    row(path, 'small p99', pct(lat('direct'), 99), pct(lat('gateway'), 99), 'ms');
    const rps = await interleaved(c, 4, (cl) => concurrent(cl, n, 16));
    row(path, 'small req/s (c=16)', med(rps.direct), med(rps.gateway), 'req/s', true);
  }
  async function bigRows(path, c) {
    // CPU time and page faults of the process in the middle: less noisy than wall time on a busy
    // machine, and what a change to the gateway's per-byte work moves first.
    const middle = relays[path] ?? gwProc;
    const before = await usage(middle);
    const big = await interleaved(c, Number(values.downloads), async (cl) => {
      const r = await get(cl, '/big');
      if (r.bytes !== BIG) throw new Error(`short download: ${r.bytes}`);
      return BIG / 1048576 / (r.ms / 1000);
    });
    const after = await usage(middle);
    row(path, '10 MB download', med(big.direct), med(big.gateway), 'MB/s', true);
    const per = (k) => (after[k] - before[k]) / Number(values.downloads);
    notes.push(
      `${path}: the ${relays[path] ? 'relay' : 'gateway'} process spent ${per('cpuMs').toFixed(1)} ms CPU ` +
        `and ${Math.round(per('faults'))} page faults per 10 MB download`,
    );
  }
  async function sseRows(path, c) {
    const sse = await interleaved(c, 10, (cl) => sequential(cl, '/sse', Math.ceil(Number(values.sse) / 10)));
    const fb = (side) => sse[side].flatMap((x) => x.first);
    row(path, 'SSE first event p50', pct(fb('direct'), 50), pct(fb('gateway'), 50), 'ms');
    row(path, 'SSE first event p99', pct(fb('direct'), 99), pct(fb('gateway'), 99), 'ms');
  }
}

// --- child processes: the upstream and the gateway ---
/** Send `buf` at about `mbps` MB/s, as a link of that speed would deliver it. */
function paced(res, buf, mbps) {
  res.writeHead(200, { 'content-length': buf.length });
  const t0 = performance.now();
  let sent = 0;
  const step = () => {
    const due = Math.min(buf.length, Math.ceil(((performance.now() - t0) / 1000) * mbps * 1048576));
    if (due > sent) {
      res.write(buf.subarray(sent, due));
      sent = due;
    }
    if (sent < buf.length) setTimeout(step, 1);
    else res.end();
  };
  step();
}

/** Ask a child process for its CPU time and page faults so far. */
async function usage(proc) {
  if (!proc.send) return procUsage(proc.pid);
  proc.send('usage');
  const [u] = await once(proc, 'message');
  return u;
}

function answerUsage() {
  process.on('message', (m) => {
    if (m !== 'usage') return;
    const r = process.resourceUsage();
    process.send({ cpuMs: (r.userCPUTime + r.systemCPUTime) / 1000, faults: r.minorPageFault });
  });
}

async function relayRole() {
  answerUsage();
  const upstream = Number(values.port);
  const { RELAY_SERVER, relayTo } = await import(new URL('../dist/gateway/relay.js', import.meta.url));
  const server = net.createServer(RELAY_SERVER, (c) =>
    relayTo(c, { host: '127.0.0.1', port: upstream, noDelay: true }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send(server.address().port);
}

async function upstreamRole() {
  const { loadOrCreateCa } = await import(dist);
  const ca = await loadOrCreateCa(join(values.dir, 'upstream-ca'));
  const big = Buffer.alloc(BIG, 'x');
  const handler = (req, res) => {
    if (req.url === '/big') return values.link ? paced(res, big, Number(values.link)) : res.end(big);
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      return setTimeout(() => res.end('data: last\n\n'), 5);
    }
    res.end('ok');
  };
  const sni = (name, cb) => ca.secureContextFor(name).then((c) => cb(null, c), cb);
  const servers = [http.createServer(handler), https.createServer({ SNICallback: sni }, handler)];
  for (const s of servers) s.listen(0, '127.0.0.1');
  await Promise.all(servers.map((s) => once(s, 'listening')));
  process.send({ http: servers[0].address().port, https: servers[1].address().port, ca: ca.certPem });
}

async function gatewayRole() {
  const { buildPolicy, loadOrCreateCa, startGateway } = await import(dist);
  const [msg] = await once(process, 'message');
  answerUsage();
  const ca = await loadOrCreateCa(join(values.dir, 'gateway-ca'));
  const socketPath = values.forwarder ? join(values.dir, 'proxy.sock') : undefined;
  const gw = await startGateway({
    ...(socketPath ? { socketPath } : {}),
    // The bench names resolve to loopback, which the gateway opens only for names allowed exactly.
    policy: buildPolicy({
      preset: 'agent',
      rules: Object.keys(NAMES).map((host) => ({ action: 'allow', host })),
      intercept: ['intercept.bench'],
    }),
    ca,
    upstreamCa: msg.upstreamCa,
    resolve: async (host) => NAMES[host] ?? [],
  });
  process.send({ port: gw.port, socket: socketPath, ca: ca.certPem });
}

// Exit cleanly when the client is done, so `node --cpu-prof` writes every process's profile.
if (values.role) process.on('SIGTERM', () => process.exit(0));
if (values.role === 'upstream') await upstreamRole();
else if (values.role === 'relay') await relayRole();
else if (values.role === 'gateway') await gatewayRole();
else await main();
