/** Where the SSH server keeps its keys and state (no ssh2 here: this is on the daemon's start path). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { corralPaths } from '../config/index.js';

export interface SshPaths {
  /** <data>/ssh (0700). */
  dir: string;
  hostKey: string;
  clientKey: string;
  /** The port the daemon's SSH server listened on last; its presence means "start with the daemon". */
  stateFile: string;
}

export function sshPaths(env: NodeJS.ProcessEnv): SshPaths {
  const dir = join(env.CORRAL_DATA_DIR || corralPaths.data, 'ssh');
  return {
    dir,
    hostKey: join(dir, 'host_ed25519_key'),
    clientKey: join(dir, 'id_ed25519'),
    stateFile: join(dir, 'server.json'),
  };
}

export const userHome = (env: NodeJS.ProcessEnv): string => env.HOME || homedir();
