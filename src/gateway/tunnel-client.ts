/**
 * `forwarder.mjs --connect SOCKET HOST PORT`: a byte stream to HOST:PORT through the gateway's
 * CONNECT, on stdin/stdout, for tools that speak no HTTP proxy (ssh's ProxyCommand, git over ssh).
 * The gateway judges it like any tunnel (a rule must allow that port); a refusal's reason goes to
 * stderr, which ssh shows, and the exit status is 1.
 */
import { connect } from 'node:net';

export function runConnect(socket: string, host: string, port: number): void {
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: forwarder.mjs --connect SOCKET HOST PORT\n');
    process.exit(2);
  }
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const c = connect(socket);
  c.setNoDelay(true);
  let head = Buffer.alloc(0);
  let open = false;
  c.on('connect', () => c.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
  c.on('data', (chunk: Buffer) => {
    if (open) return;
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
    if (status !== '200') {
      // The body says why (and how to allow it); it comes whole, the gateway closes after it.
      const rest: Buffer[] = [head.subarray(end + 4)];
      c.on('end', () => {
        process.stderr.write(`corral: ${target} refused (${status ?? 'no answer'})\n${Buffer.concat(rest)}`);
        process.exit(1);
      });
      c.removeAllListeners('data');
      c.on('data', (more: Buffer) => rest.push(more));
      return;
    }
    open = true;
    c.removeAllListeners('data');
    const early = head.subarray(end + 4);
    if (early.length) process.stdout.write(early);
    c.pipe(process.stdout);
    process.stdin.pipe(c);
    process.stdin.on('end', () => c.end());
  });
  c.on('error', (e) => {
    process.stderr.write(`corral: cannot reach the egress gateway at ${socket}: ${e.message}\n`);
    process.exit(1);
  });
  c.on('close', () => {
    if (open) process.exit(0);
  });
}
