/**
 * Where the per-user daemon keeps its socket, token, state and log. One folder (0700), under
 * $XDG_RUNTIME_DIR when there is one (cleared at logout, like the daemon itself), else corral's
 * state folder. CORRAL_DAEMON_DIR overrides it (tests run daemons side by side that way).
 */
import { join } from 'node:path';
import { corralPaths } from '../config/index.js';

export interface DaemonPaths {
  dir: string;
  socket: string;
  tokenFile: string;
  stateFile: string;
  logFile: string;
  lockFile: string;
}

export function daemonPaths(env: NodeJS.ProcessEnv): DaemonPaths {
  const dir =
    env.CORRAL_DAEMON_DIR ??
    (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'corral') : join(corralPaths.log, 'daemon'));
  return {
    dir,
    socket: join(dir, 'daemon.sock'),
    tokenFile: join(dir, 'token'),
    stateFile: join(dir, 'daemon.json'),
    logFile: join(dir, 'daemon.log'),
    lockFile: join(dir, 'start'),
  };
}

/** The default HTTP address of `corral web` and `corral daemon start --listen`. */
export const DEFAULT_LISTEN = '127.0.0.1:7450';
