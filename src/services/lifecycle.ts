/**
 * Starting and stopping service containers (when they go with their session: sessions.ts).
 */
import type { ContainerEngine, ContainerSpec, ImageDetails, Isolation } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { gatewayName } from '../gateway/container.js';
import { trace } from '../trace.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import {
  nextAddress,
  SERVICE_DATA_ROLE,
  SERVICE_LABELS,
  serviceContainer,
  serviceLabels,
  serviceVolume,
  validateEnvKeys,
  validateImage,
  validateServiceName,
} from './names.js';
import { dropServicesNetworkIfUnused, ensureServicesNetwork } from './network.js';
import { findService, listServices, tailLogs } from './query.js';
import { syncRoutes } from './routes.js';
import type { ServiceInfo, ServiceRequest } from './types.js';

/** Capabilities a database or broker never needs (its entrypoint may still chown and drop to a user). */
const CAP_DROP = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'];
/** How long a fresh service must stay up to count as started (bad env makes many exit at once). */
const SETTLE_MS = 400;

async function imageDetails(engine: ContainerEngine, image: string): Promise<ImageDetails> {
  const local = await engine.inspectImage(image);
  if (local) return local;
  try {
    await engine.pullImage(image);
  } catch (e) {
    throw new CorralError(
      'IMAGE_NOT_FOUND',
      `The service image ${image} is not on this machine and could not be pulled.`,
      'Build or pull it on the host first (e.g. `podman pull`/`docker pull`).',
      { cause: e },
    );
  }
  const pulled = await engine.inspectImage(image);
  if (!pulled)
    throw new CorralError('IMAGE_NOT_FOUND', `The service image ${image} is missing after a pull.`);
  return pulled;
}

async function removeVolumes(engine: ContainerEngine, ws: Workspace, name: string): Promise<void> {
  const vols = await engine.listVolumes([
    `${LABELS.workspace}=${ws.id}`,
    `${LABELS.role}=${SERVICE_DATA_ROLE}`,
    `${SERVICE_LABELS.name}=${name}`,
  ]);
  for (const v of vols) await engine.removeVolume(v.name).catch(() => {});
}

export async function removeService(
  engine: ContainerEngine,
  ws: Workspace,
  s: { name: string; container: string },
) {
  // Its data goes with it, so there is nothing to shut down gracefully for.
  await engine.kill(s.container).catch(() => {});
  await engine.remove(s.container, { force: true }).catch(() => {});
  await removeVolumes(engine, ws, s.name);
}

function validate(req: ServiceRequest): void {
  validateServiceName(req.name);
  validateImage(req.image);
  validateEnvKeys(req.env);
  for (const p of req.ports ?? []) {
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      throw new CorralError('BAD_INPUT', `Invalid port ${p}: expected 1–65535.`);
  }
}

export async function startService(
  engine: ContainerEngine,
  ws: Workspace,
  session: string,
  req: ServiceRequest,
  /** config: from `services:`, kept while any session of the workspace lives; agent: the session's own. */
  origin: ServiceInfo['origin'] = 'agent',
): Promise<ServiceInfo> {
  validate(req);
  const gw = await engine.inspect(gatewayName(ws.id));
  if (!gw?.running) {
    throw new CorralError(
      'BAD_INPUT',
      "Services need the workspace's egress gateway, and it is not running.",
      'Start a sandbox here with the default network (gateway) first.',
    );
  }
  const existing = await findService(engine, ws, req.name);
  if (existing?.state === 'running') {
    throw new CorralError(
      'BAD_INPUT',
      `A service named ${req.name} is already running in this workspace (${existing.image}).`,
      'Use it, stop it first (stop_service / `corral services stop`), or pick another name.',
    );
  }
  if (existing) await removeService(engine, ws, existing);
  trace('svc: checked');
  const image = await imageDetails(engine, req.image);
  const ports = req.ports?.length ? [...new Set(req.ports)] : image.exposedPorts;
  if (!ports.length) {
    throw new CorralError(
      'BAD_INPUT',
      `The image ${req.image} exposes no port.`,
      'Say which port(s) the service listens on (ports).',
    );
  }
  const network = await ensureServicesNetwork(engine, ws);
  trace('svc: network');
  const address = nextAddress((await listServices(engine, ws)).map((s) => s.address));
  const envKeys = Object.keys(req.env).sort();
  const labels = serviceLabels(ws, session, { name: req.name, ports, address, envKeys, origin });
  const name = serviceContainer(ws.id, req.name);
  // A fresh volume for each declared data folder: nothing from an earlier run, nothing shared.
  const volumes = image.volumes.map((target, i) => ({ source: serviceVolume(ws.id, req.name, i), target }));
  for (const v of volumes) {
    await engine.removeVolume(v.source).catch(() => {});
    await engine.createVolume(v.source, {
      [LABELS.managed]: 'true',
      [LABELS.workspace]: ws.id,
      [LABELS.session]: session,
      [LABELS.role]: SERVICE_DATA_ROLE,
      [SERVICE_LABELS.name]: req.name,
    });
  }
  trace('svc: volumes');
  const spec: ContainerSpec = {
    name,
    image: req.image,
    cmd: [],
    env: req.env,
    labels,
    user: '',
    workdir: '',
    tty: false,
    openStdin: false,
    mounts: volumes.map((v) => ({ type: 'volume' as const, ...v })),
    capDrop: CAP_DROP,
    noNewPrivileges: true,
    pidsLimit: 1024,
    memoryBytes: 2 * 1024 ** 3,
    network,
    networkAliases: [req.name],
    autoRemove: false,
    isolation: req.isolation ?? (await sessionIsolation(engine, session)),
  };
  try {
    await engine.startContainer(await engine.createContainer(spec));
    trace('svc: started');
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const details = await engine.inspect(name);
    if (!details?.running) {
      const logs = await tailLogs(engine, name, 10).catch(() => '');
      throw new CorralError(
        'BAD_INPUT',
        `The service ${req.name} (${req.image}) exited at once (code ${details?.exitCode ?? '?'})${logs ? `:\n${logs}` : '.'}`,
        'Check its environment variables and ports.',
      );
    }
  } catch (e) {
    await removeService(engine, ws, { name: req.name, container: name });
    await dropServicesNetworkIfUnused(engine, ws);
    throw e;
  }
  trace('svc: settled');
  const routed = await syncRoutes(engine, ws);
  trace('svc: routed');
  if (!routed) {
    await removeService(engine, ws, { name: req.name, container: name });
    await syncRoutes(engine, ws);
    await dropServicesNetworkIfUnused(engine, ws);
    throw new CorralError(
      'ENGINE_ERROR',
      `The gateway did not open a socket for ${req.name}.`,
      "Its log (corral's data folder, gateways/) says why; `corral doctor` checks the gateway.",
    );
  }
  const info = await findService(engine, ws, req.name);
  if (!info) throw new CorralError('ENGINE_ERROR', `The service ${req.name} disappeared right after start.`);
  return info;
}

export async function stopService(engine: ContainerEngine, ws: Workspace, name: string): Promise<void> {
  const s = await findService(engine, ws, name);
  if (!s) {
    throw new CorralError(
      'BAD_INPUT',
      `No service named ${name} in this workspace.`,
      'See the running ones with list_services / `corral services`.',
    );
  }
  await removeService(engine, ws, s);
  await syncRoutes(engine, ws);
  await dropServicesNetworkIfUnused(engine, ws);
}

/** The isolation of the session's sandbox: a service it starts runs on the same runtime. */
async function sessionIsolation(engine: ContainerEngine, session: string): Promise<Isolation | undefined> {
  const [sandbox] = await engine.list({
    labels: [`${LABELS.session}=${session}`, `${LABELS.role}=agent`],
    all: true,
  });
  const v = sandbox?.labels[LABELS.isolation];
  return v === 'gvisor' || v === 'runc' ? v : undefined;
}
