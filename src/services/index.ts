/** Service containers (postgres, redis, a broker…) that a workspace's sandboxes reach by name. */
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { Workspace } from '../workspace/identity.js';
import { startService, stopService } from './lifecycle.js';
import { findService, listServices, tailLogs } from './query.js';
import type { ServiceController } from './types.js';

export { startService, stopService } from './lifecycle.js';
export { ensureServicesNetwork } from './network.js';
export { findService, listAllServices, listServices, sanitizeLog, tailLogs } from './query.js';
export { reapAndList, reapOrphans, stopSessionServices } from './sessions.js';
export type { ServiceController, ServiceInfo, ServiceRequest } from './types.js';

export const MAX_LOG_LINES = 1000;

/** The operations a session's host bridge offers, bound to its workspace and session. */
export function serviceController(
  engine: ContainerEngine,
  ws: Workspace,
  session: string,
): ServiceController {
  return {
    start: (req) => startService(engine, ws, session, req),
    stop: (name) => stopService(engine, ws, name),
    list: () => listServices(engine, ws),
    logs: async (name, lines) => {
      const s = await findService(engine, ws, name);
      if (!s) throw new CorralError('BAD_INPUT', `No service named ${name} in this workspace.`);
      return tailLogs(engine, s.container, Math.min(Math.max(1, lines), MAX_LOG_LINES));
    },
  };
}
