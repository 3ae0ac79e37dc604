/**
 * Keeping a workspace's gateway up under a running sandbox. If the gateway container dies (killed,
 * crashed, OOM), the sandbox's traffic fails closed at its forwarder (a 502 naming corral, never a
 * way around it); the process that serves the run (an attached `corral run`, or a detached run's
 * bridge process) notices here, says so, and starts the same container again: its settings, CA
 * and folders are on the host, so it comes back serving what it served. One restart at a time per
 * workspace (the start lock), so several sandboxes' watchers do not race.
 */
import { join } from 'node:path';
import { withFileLock } from '../config/file-lock.js';
import type { ContainerEngine } from '../engine/index.js';
import { gatewayName } from './container.js';
import { gatewayDirs } from './folders.js';
import { waitGatewayReady } from './readiness.js';

export interface GatewayWatch {
  stop(): void;
}

export interface GatewayWatchOptions {
  /** How often to look (an inspect of one container). */
  intervalMs?: number;
  /** One line for the user, as the run reports (stderr, the bridge log, a notification). */
  note: (line: string) => void;
  /** Whether the run still needs it (its sandbox runs); a stopped run's gateway is not revived. */
  needed?: () => Promise<boolean>;
}

/**
 * Restart the workspace's gateway if its container exists but has stopped. `gone` when there is
 * none (`corral stop` or `clean` removed it on purpose), `running` when another process already did.
 */
export async function restartGateway(
  engine: ContainerEngine,
  workspaceId: string,
): Promise<'restarted' | 'running' | 'gone'> {
  const dirs = gatewayDirs(engine, workspaceId);
  return withFileLock(dirs.root, { lockfilePath: join(dirs.root, 'start.lock') }, async () => {
    const name = gatewayName(workspaceId);
    const gw = await engine.inspect(name);
    if (!gw) return 'gone';
    if (gw.running) return 'running';
    await engine.startContainer(gw.id);
    // By name: on Kubernetes a pod runs once, so the one started again is a new pod (a new id).
    await waitGatewayReady(engine, name, dirs);
    return 'restarted';
  });
}

/** Say the gateway stopped, start it again and say it is back; throws when it cannot start. */
export async function reviveGateway(
  engine: ContainerEngine,
  workspaceId: string,
  exitCode: number,
  note: (line: string) => void,
): Promise<'restarted' | 'running' | 'gone'> {
  note(
    `corral: the egress gateway stopped (exit code ${exitCode}); this workspace's sandboxes reach nothing until it is back. Restarting it.`,
  );
  const t0 = Date.now();
  const outcome = await restartGateway(engine, workspaceId);
  if (outcome !== 'gone') note(`corral: the egress gateway is back (${Date.now() - t0} ms).`);
  return outcome;
}

export function watchGateway(
  engine: ContainerEngine,
  workspaceId: string,
  opts: GatewayWatchOptions,
): GatewayWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const gw = await engine.inspect(gatewayName(workspaceId)).catch(() => undefined);
    if (stopped || !gw || gw.running) return;
    if (opts.needed && !(await opts.needed().catch(() => false))) return;
    try {
      await reviveGateway(engine, workspaceId, gw.exitCode, opts.note);
    } catch (e) {
      opts.note(
        `corral: the egress gateway could not be restarted: ${(e as Error).message.split('\n')[0]} (\`corral doctor\` checks the engine; the sandbox stays cut off).`,
      );
    }
  };
  const loop = () => {
    timer = setTimeout(() => {
      void tick().finally(() => {
        if (!stopped) loop();
      });
    }, opts.intervalMs ?? 2_000);
    timer.unref();
  };
  loop();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
