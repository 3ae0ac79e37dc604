/**
 * The built-in scripted model server (`corral model serve`, `corral demo`): it listens beyond
 * loopback, since sandboxes reach the host over the engine's bridge, but answers only loopback and
 * container-network addresses. Loaded only by the commands that serve it.
 */
import type { ModelServer, ModelServerOptions as ServerOptions } from '../model/server.js';

export { DEFAULT_SCRIPT_PATH } from '../model/paths.js';
export type { ModelServer };

export async function startScriptedModel(
  opts: Omit<ServerOptions, 'allow'> & Partial<Pick<ServerOptions, 'allow'>>,
): Promise<ModelServer> {
  const { isLocalOrContainerAddress, startModelServer } = await import('../model/index.js');
  return startModelServer({ allow: isLocalOrContainerAddress, ...opts });
}

/** `corral bridge serve`: one detached session's host bridge, until its sandbox ends; the exit code. */
export async function serveDetachedBridge(): Promise<number> {
  return (await import('../bridge/daemon.js')).serveDetachedBridge();
}
