/**
 * What a service container is called and carries. Everything about a running service (its short
 * name, ports, loopback address in the sandbox, env key names, owning session) is in its labels, so
 * the routes the gateway and sandboxes use can always be rebuilt from the engine alone.
 */
import { CorralError } from '../errors.js';
import { LABELS, type Workspace } from '../workspace/identity.js';

export const SERVICE_LABELS = {
  name: 'io.corral.service',
  ports: 'io.corral.service-ports',
  address: 'io.corral.service-address',
  envKeys: 'io.corral.service-env-keys',
  origin: 'io.corral.service-origin',
} as const;

/** The role label of service containers and of their data volumes. */
export const SERVICE_ROLE = 'service';
export const SERVICE_DATA_ROLE = 'service-data';

export const SERVICE_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
/** A registry reference: [host[:port]/]path[:tag][@digest], nothing a shell or a label could trip on. */
const IMAGE_REF = /^[a-z0-9][a-z0-9._\-/:]{0,254}(@sha256:[a-f0-9]{64})?$/i;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const servicesNetwork = (workspaceId: string): string => `corral-${workspaceId}-net`;
export const serviceContainer = (workspaceId: string, name: string): string =>
  `corral-${workspaceId}-svc-${name}`;
export const serviceVolume = (workspaceId: string, name: string, i: number): string =>
  `corral-${workspaceId}-svc-${name}-${i}`;

/** Names the sandbox already uses, or that would shadow the host's. */
const RESERVED = new Set(['localhost', 'gateway', 'host', 'corral']);

export function validateServiceName(name: string): void {
  if (!SERVICE_NAME.test(name) || name.endsWith('-') || RESERVED.has(name)) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid service name ${JSON.stringify(name)}.`,
      'Use a short lowercase name like postgres, redis or queue (letters, digits, -; up to 31).',
    );
  }
}

export function validateImage(image: string): void {
  if (!IMAGE_REF.test(image) || image.includes('..') || image.includes('//')) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid image reference ${JSON.stringify(image)}.`,
      'Name an image like postgres:16 or registry.example.com/team/redis:7.',
    );
  }
}

export function validateEnvKeys(env: Record<string, string>): void {
  const bad = Object.keys(env).filter((k) => !ENV_KEY.test(k));
  if (bad.length) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid environment variable name(s): ${bad.map((k) => JSON.stringify(k)).join(', ')}.`,
    );
  }
}

export function serviceLabels(
  ws: Workspace,
  session: string,
  s: { name: string; ports: number[]; address: string; envKeys: string[]; origin: 'config' | 'agent' },
): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.workspace]: ws.id,
    [LABELS.workspacePath]: ws.path,
    [LABELS.session]: session,
    [LABELS.role]: SERVICE_ROLE,
    [SERVICE_LABELS.name]: s.name,
    [SERVICE_LABELS.ports]: s.ports.join(','),
    [SERVICE_LABELS.address]: s.address,
    [SERVICE_LABELS.envKeys]: s.envKeys.join(','),
    [SERVICE_LABELS.origin]: s.origin,
  };
}

/**
 * Each service gets its own loopback address in the sandbox (127.0.2.1, .2, …), so two services
 * may use the same port and the forwarder can listen on each one's standard port.
 */
export function nextAddress(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; i < 255; i++) {
    const a = `127.0.2.${i}`;
    if (!used.has(a)) return a;
  }
  throw new CorralError('BAD_INPUT', 'Too many services in this workspace (254).');
}
