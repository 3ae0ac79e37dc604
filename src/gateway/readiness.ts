/**
 * Waiting for a workspace's gateway: until it accepts connections on its socket, or has loaded a
 * revision of its settings, or has died (then failing with its last log lines).
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { socketAccepts } from '../socket.js';
import { type GatewayDirs, gatewayServes } from './folders.js';
import { GATEWAY_CONTAINER_PATHS as P } from './settings.js';

const READY_TIMEOUT_MS = 15_000;
/** Container states (Docker, Podman) between create and start. */
const STARTING = new Set(['created', 'configured', 'initialized']);

async function tailLogs(engine: ContainerEngine, id: string): Promise<string> {
  const stream = await engine.logs(id, { tail: 20 });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.demux(stream, out, out);
  await finished(stream).catch(() => {});
  return Buffer.concat(chunks).toString();
}

/** Wait until a (re)started gateway accepts connections on its socket in `dirs` (or has died). */
export async function waitGatewayReady(
  engine: ContainerEngine,
  id: string,
  dirs: GatewayDirs,
): Promise<void> {
  await waitReady(engine, id, join(dirs.sock, P.socketFile));
}

/** Wait until the gateway accepts connections on its socket (or has died). */
export async function waitReady(engine: ContainerEngine, id: string, socket: string): Promise<void> {
  // A remote engine's gateway listens in the copy of its folder on that machine.
  const ready = engine.hostFolders?.socketReady ?? socketAccepts;
  await waitFor(engine, id, () => ready(socket), 'did not start');
}

/** Has the gateway loaded this revision of its settings (it writes the one it serves)? */
export async function tookRevision(
  engine: ContainerEngine,
  dirs: GatewayDirs,
  revision: number,
): Promise<boolean> {
  if (!engine.hostFolders) return gatewayServes(dirs, revision);
  const applied = Number(await engine.hostFolders.read(join(dirs.log, P.appliedFile))) || 0;
  return applied >= revision;
}

/**
 * Wait until `check` holds, or the gateway has died or the time is up (then fail with its last log
 * lines). The container is looked at every few checks: checks are cheap, inspects are not.
 */
export async function waitFor(
  engine: ContainerEngine,
  id: string,
  check: () => Promise<boolean>,
  failure: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let n = 0; Date.now() < deadline; n++) {
    if (await check()) return;
    if (n % 8 === 7) {
      const details = await engine.inspect(id);
      // Not yet started is fine: another corral run created it a moment ago and starts it now.
      if (!details || (!details.running && !STARTING.has(details.state))) break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const logs = await tailLogs(engine, id).catch(() => '');
  throw new CorralError(
    'ENGINE_ERROR',
    `The egress gateway ${failure}${logs ? `:\n  ${logs.trim().split('\n').slice(-5).join('\n  ')}` : '.'}`,
    '`corral doctor` checks the engine; `--network open` runs without the gateway (no egress control).',
  );
}
