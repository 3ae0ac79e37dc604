/**
 * Keeping a workspace's egress gateway warm from a long-lived process (the daemon): it holds the
 * same presence request a running sandbox's forwarder holds, so the gateway does not exit when
 * its last sandbox does, and the next run finds it up (it only hands over its settings).
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { gatewayDirs } from '../gateway/folders.js';
import { GATEWAY_CONTAINER_PATHS as P, PRESENCE_PATH } from '../gateway/settings.js';
import type { CoreContext } from './context.js';

/** Hold the gateway of `workspaceId` (re-made if the gateway restarts); returns the release. */
export async function holdGateway(ctx: CoreContext, workspaceId: string): Promise<() => void> {
  const engine = await ctx.engine();
  let socket = join(gatewayDirs(engine, workspaceId).sock, P.socketFile);
  // A remote engine's gateway listens in the copy on that machine: held through an SSH forward.
  const reached = await engine.hostFolders?.reachSocket?.(socket);
  if (reached) socket = reached.local;
  let held = true;
  let current: Socket | undefined;
  const hold = () => {
    if (!held) return;
    const c = connect(socket);
    current = c;
    c.on('connect', () => c.write(`GET ${PRESENCE_PATH} HTTP/1.1\r\nHost: corral\r\n\r\n`));
    c.on('data', () => {});
    c.on('error', () => {});
    c.on('close', () => {
      if (held) setTimeout(hold, 2000).unref();
    });
  };
  hold();
  return () => {
    held = false;
    current?.destroy();
    void reached?.close().catch(() => undefined);
  };
}
