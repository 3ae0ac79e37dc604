/**
 * A run behind the gateway brings the workspace's configured services up before its sandbox
 * starts (a trusted project's `services:` start without asking: trusting it was the approval),
 * hands its bridge what starts more, and takes everything its session started down when it ends.
 */
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { ServiceController } from '../../services/index.js';
import { trace } from '../../trace.js';
import type { Workspace } from '../../workspace/identity.js';

export async function startRunServices(
  engine: ContainerEngine,
  workspace: Workspace,
  config: Config,
  spec: SandboxSpec,
  note: (line: string) => void,
): Promise<ServiceController | undefined> {
  if (spec.network.mode !== 'gateway') return undefined;
  const svc = await import('../../services/index.js');
  const { reaped, left: running } = await svc.reapAndList(engine, workspace);
  if (reaped.length) note(`corral: removed services left by an earlier run: ${reaped.join(', ')}`);
  // A gateway started anew (after idling out) must join the services network again.
  if (running.length) await svc.ensureServicesNetwork(engine, workspace);
  for (const [name, def] of Object.entries(config.services)) {
    const same = running.find((s) => s.name === name && s.state === 'running');
    if (same?.image === def.image) continue;
    const ports = def.ports ?? (def.port ? [def.port] : undefined);
    const s = await svc.startService(
      engine,
      workspace,
      spec.session,
      { name, image: def.image, env: def.env, isolation: spec.isolation, ...(ports ? { ports } : {}) },
      'config',
    );
    note(`corral: service ${name} (${s.image}) at ${s.ports.map((p) => `${name}:${p}`).join(', ')}`);
  }
  return svc.serviceController(engine, workspace, spec.session);
}

/**
 * What this run's session started goes with it (also after Ctrl-C: called from finally), and the
 * configured services too when no other sandbox of the workspace still runs.
 */
export async function stopRunServices(
  engine: ContainerEngine,
  workspace: Workspace,
  spec: SandboxSpec,
): Promise<void> {
  if (spec.network.mode !== 'gateway' || spec.detached) return;
  const { stopSessionServices } = await import('../../services/index.js');
  await stopSessionServices(engine, workspace, spec.session).catch(() => {});
  trace('services stopped');
}
