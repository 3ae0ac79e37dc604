/**
 * `direct-tcpip` (ssh -L, VS Code Remote-SSH's and Zed's tunnels to their servers): each forwarded
 * connection is relayed by a small bash loop exec'd in the sandbox, connecting from *inside* the
 * sandbox's network namespace. The sandbox gets no published port or extra network interface; it
 * reaches exactly what it could reach before (its loopback, and what its egress rules allow).
 */
import { PassThrough } from 'node:stream';
import type { AcceptConnection, RejectConnection, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { SandboxExec } from './session.js';

/**
 * Connect fd 3, say "ready" on stderr (the host accepts the channel only then, so a closed port is
 * refused as OpenSSH refuses it), then copy both ways; whichever side ends first ends the other.
 * The client's input is kept on fd 4: a background job's stdin would be /dev/null.
 */
const RELAY = [
  'exec 3<>"/dev/tcp/$1/$2" || exit 1',
  'printf R >&2',
  'exec 4<&0',
  'cat <&3 &',
  'cat <&4 >&3 &',
  'wait -n',
  'kill $(jobs -p) 2>/dev/null',
  'exit 0',
].join('\n');

const HOST = /^[A-Za-z0-9][A-Za-z0-9.:_-]{0,252}$/;

export function relayTcp(
  accept: AcceptConnection<ServerChannel>,
  reject: RejectConnection,
  info: TcpipRequestInfo,
  exec: SandboxExec,
  log: (line: string) => void,
): void {
  const host = info.destIP === 'localhost' ? '127.0.0.1' : info.destIP;
  if (!HOST.test(host) || !Number.isInteger(info.destPort) || info.destPort < 1 || info.destPort > 65535) {
    reject();
    return;
  }
  void (async () => {
    const ex = await exec(['bash', '-c', RELAY, 'relay', host, String(info.destPort)], {
      tty: false,
      env: {},
    });
    const out = new PassThrough();
    const err = new PassThrough();
    ex.demux(out, err);
    const ready = await new Promise<boolean>((resolve) => {
      err.once('data', (c: Buffer) => resolve(c[0] === 0x52));
      ex.stream.once('close', () => resolve(false));
      ex.stream.once('error', () => resolve(false));
    });
    if (!ready) {
      ex.stream.destroy();
      reject();
      return;
    }
    const channel = accept();
    out.pipe(channel);
    // No half-close into the sandbox: the relay ends when either side closes (see RELAY).
    channel.pipe(ex.stream, { end: false });
    channel.on('close', () => ex.stream.destroy());
    ex.stream.on('close', () => {
      out.end();
    });
  })().catch((e: Error) => {
    log(`ssh: forward to ${host}:${info.destPort} failed: ${e.message}`);
    reject();
  });
}
