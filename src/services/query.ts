/** Reading the workspace's services back from the engine (labels only), and their logs. */
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ContainerEngine, ContainerSummary } from '../engine/index.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import { SERVICE_LABELS, SERVICE_ROLE } from './names.js';
import type { ServiceInfo } from './types.js';

export const serviceFilter = (ws: Workspace): string[] => [
  `${LABELS.managed}=true`,
  `${LABELS.workspace}=${ws.id}`,
  `${LABELS.role}=${SERVICE_ROLE}`,
];

const split = (v: string | undefined) => (v ? v.split(',').filter(Boolean) : []);

export function toServiceInfo(c: ContainerSummary): ServiceInfo {
  const l = c.labels;
  return {
    name: l[SERVICE_LABELS.name] ?? c.name,
    image: c.image,
    state: c.state,
    ports: split(l[SERVICE_LABELS.ports]).map(Number),
    address: l[SERVICE_LABELS.address] ?? '',
    envKeys: split(l[SERVICE_LABELS.envKeys]),
    session: l[LABELS.session] ?? '',
    origin: l[SERVICE_LABELS.origin] === 'config' ? 'config' : 'agent',
    container: c.name,
    created: c.created,
  };
}

export async function listServices(engine: ContainerEngine, ws: Workspace): Promise<ServiceInfo[]> {
  const cs = await engine.list({ labels: serviceFilter(ws), all: true });
  return cs.map(toServiceInfo).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every workspace's services in one engine call, by workspace id: the daemon's once-a-second look
 * (one list per running workspace, each reaping first, was most of the engine's idle CPU at N=50).
 */
export async function listAllServices(engine: ContainerEngine): Promise<Map<string, ServiceInfo[]>> {
  const cs = await engine.list({
    labels: [`${LABELS.managed}=true`, `${LABELS.role}=${SERVICE_ROLE}`],
    all: true,
  });
  const by = new Map<string, ServiceInfo[]>();
  for (const c of cs) {
    const ws = c.labels[LABELS.workspace];
    if (!ws) continue;
    by.set(ws, [...(by.get(ws) ?? []), toServiceInfo(c)]);
  }
  return by;
}

export async function findService(
  engine: ContainerEngine,
  ws: Workspace,
  name: string,
): Promise<ServiceInfo | undefined> {
  return (await listServices(engine, ws)).find((s) => s.name === name);
}

/** Terminal escapes and control characters are dropped: the text goes to an agent or a terminal. */
export function sanitizeLog(text: string): string {
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '')
    .replace(/\r\n/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** The last `lines` lines of a container's output (stdout and stderr merged), sanitised. */
export async function tailLogs(engine: ContainerEngine, container: string, lines: number): Promise<string> {
  const stream = await engine.logs(container, { tail: lines });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.demux(stream, out, out);
  await finished(stream).catch(() => {});
  const text = sanitizeLog(Buffer.concat(chunks).toString('utf8'));
  return text.replace(/\n$/, '').split('\n').slice(-lines).join('\n');
}
