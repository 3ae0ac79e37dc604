/**
 * Finding and operating on existing sandboxes: list, stop, logs, exec, attach. Everything is found
 * by label, so containers from other tools are never touched.
 */
import type { ContainerEngine, ContainerSummary, PortBinding } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { WORKSPACE_DIR } from '../images/recipes.js';
import { LABELS, type Workspace } from '../workspace/identity.js';
import type { HostUser } from '../workspace/userns.js';
import { connect, drained, type Stdio } from './attach.js';
import { reclaimOwnership } from './ownership.js';
import { unforwardPorts } from './port-relay.js';
import { parseInboundPorts } from './spec.js';
import { isIdleWarm } from './warm.js';

export interface SandboxInfo {
  id: string;
  name: string;
  agent: string;
  workspace: string;
  workspacePath: string;
  profile: string;
  session: string;
  state: string;
  status: string;
  running: boolean;
  detached: boolean;
  image: string;
  created: number;
  ports: PortBinding[];
}

export function toInfo(c: ContainerSummary): SandboxInfo {
  return {
    id: c.id.slice(0, 12),
    name: c.name,
    agent: c.labels[LABELS.agent] ?? '?',
    workspace: c.labels[LABELS.workspace] ?? '?',
    workspacePath: c.labels[LABELS.workspacePath] ?? '?',
    profile: c.labels[LABELS.profile] ?? '?',
    session: c.labels[LABELS.session] ?? '',
    state: c.state,
    status: c.status,
    running: c.state === 'running',
    detached: c.labels[LABELS.detached] === 'true',
    image: c.image,
    created: c.created,
    ports: c.ports,
  };
}

export async function listSandboxes(
  engine: ContainerEngine,
  /** ports: also the ports a relay container publishes for a sandbox behind the gateway (for `list`). */
  opts: { running?: boolean; workspace?: string; agent?: string; ports?: boolean } = {},
): Promise<SandboxInfo[]> {
  const labels = [`${LABELS.managed}=true`, `${LABELS.role}=agent`];
  if (opts.workspace) labels.push(`${LABELS.workspace}=${opts.workspace}`);
  if (opts.agent) labels.push(`${LABELS.agent}=${opts.agent}`);
  // Warm sandboxes not yet taken (the daemon's pool) are no one's sandbox.
  const found = (await engine.list({ labels, all: !opts.running })).filter((c) => !isIdleWarm(c));
  const all = found.map(toInfo);
  // On a remote engine they are SSH forwards here, named on the sandbox's label.
  if (opts.ports && engine.hostFolders) {
    all.forEach((s, i) => {
      s.ports = [...s.ports, ...parseInboundPorts(found[i]?.labels[LABELS.inboundPorts])];
    });
  }
  // Behind the gateway, a sandbox's published ports belong to its relay container.
  const relays = opts.ports
    ? await engine.list({ labels: [`${LABELS.managed}=true`, `${LABELS.role}=ports`] })
    : [];
  for (const r of relays) {
    const owner = all.find((s) => `${s.name}-ports` === r.name);
    if (owner) owner.ports = [...owner.ports, ...r.ports];
  }
  return all.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A target is a container name or id prefix, or an agent name meaning "that agent's sandbox in this
 * workspace" (the most recent one if --name made several).
 */
export async function findSandbox(
  engine: ContainerEngine,
  target: string,
  ws: Workspace | undefined,
  agentName: string | undefined,
): Promise<SandboxInfo> {
  const all = await listSandboxes(engine);
  const byName = all.find((s) => s.name === target || s.id.startsWith(target));
  if (byName) return byName;
  if (agentName) {
    const mine = all
      .filter((s) => s.agent === agentName && (!ws || s.workspace === ws.id))
      .sort((a, b) => Number(b.running) - Number(a.running) || b.created - a.created);
    if (mine[0]) return mine[0];
  }
  throw new CorralError(
    'CONTAINER_NOT_FOUND',
    agentName && ws
      ? `No ${agentName} sandbox in this workspace (${ws.path}).`
      : `No corral sandbox named "${target}".`,
    'See `corral list` for the sandboxes that exist.',
  );
}

export async function stopSandbox(
  engine: ContainerEngine,
  s: SandboxInfo,
  opts: { force?: boolean; reclaimTo?: HostUser },
): Promise<void> {
  // A sandbox that needs its files handed back says so on its label (Docker or gVisor as root).
  const before = await engine.inspect(s.id);
  const reclaimTo = opts.reclaimTo ?? parseOwner(before?.labels[LABELS.reclaimTo]);
  if (opts.force) await engine.kill(s.id);
  else await engine.stop(s.id, 10);
  // Its port relay (behind the gateway), if it has one.
  const relay = await engine.inspect(`${s.name}-ports`);
  if (relay?.labels[LABELS.role] === 'ports')
    await engine.remove(relay.id, { force: true }).catch(() => undefined);
  // On a remote engine, its SSH port forwards instead.
  if (engine.hostFolders && s.workspace !== '?')
    await unforwardPorts(engine, s.workspace, s.name, before?.labels[LABELS.inboundPorts]).catch(
      () => undefined,
    );
  const details = await engine.inspect(s.id);
  // Docker may already be removing an auto-remove container ("removal in progress").
  if (details && details.labels[LABELS.autoRemove] !== 'false')
    await engine.remove(s.id, { force: true }).catch(() => undefined);
  // The last sandbox of a workspace takes its egress gateway with it.
  if (s.workspace !== '?') {
    // Services its session started (a detached run's) go with it.
    const { reapOrphans } = await import('../services/sessions.js');
    await reapOrphans(engine, { id: s.workspace, path: s.workspacePath }).catch(() => {});
    const { releaseGateway } = await import('../gateway/container.js');
    await releaseGateway(engine, s.workspace, undefined, s.id).catch(() => {});
  }
  if (reclaimTo && s.workspacePath !== '?') {
    await reclaimOwnership(s.workspacePath, reclaimTo, s.created * 1000 - 2000);
  }
}

function parseOwner(label: string | undefined): HostUser | undefined {
  const m = /^(\d+):(\d+)$/.exec(label ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}

export async function execIn(
  engine: ContainerEngine,
  s: SandboxInfo,
  cmd: string[],
  io: Stdio,
  opts: { tty: boolean; env?: Record<string, string> },
): Promise<number> {
  const details = await engine.inspect(s.id);
  if (!details?.running) {
    throw new CorralError(
      'CONTAINER_NOT_FOUND',
      `${s.name} is not running.`,
      `Start it with \`corral run ${s.agent} -d\`.`,
    );
  }
  const ex = await engine.execStream(s.id, cmd, {
    user: details.user,
    workdir: WORKSPACE_DIR,
    tty: opts.tty,
    stdin: true,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const disconnect = connect(engine, ex.stream, io, { tty: opts.tty, stdin: true, resize: ex.resize });
  try {
    return await ex.exitCode();
  } finally {
    disconnect();
  }
}

/** Attach to a running sandbox; returns when it exits or the user detaches (Ctrl-P Ctrl-Q). */
export async function attachTo(
  engine: ContainerEngine,
  s: SandboxInfo,
  io: Stdio,
): Promise<number | undefined> {
  const details = await engine.inspect(s.id);
  if (!details?.running) {
    throw new CorralError('CONTAINER_NOT_FOUND', `${s.name} is not running.`, 'See `corral list`.');
  }
  const stream = await engine.attach(s.id, { stdin: true, tty: details.tty });
  // A detached run's bridge asks through the approval queue: this terminal can answer too.
  let stopPrompts = () => {};
  const prompts =
    details.tty && io.stdin.isTTY && s.session
      ? (await import('../bridge/attach-prompts.js')).attachPrompts(s.session, s.agent, io)
      : undefined;
  const disconnect = connect(engine, stream, io, {
    tty: details.tty,
    stdin: true,
    resize: (r, c) => engine.resize(s.id, r, c),
    ...(prompts ? { control: (c) => (stopPrompts = prompts(c)) } : {}),
  });
  try {
    await drained(stream);
  } finally {
    stopPrompts();
    disconnect();
  }
  const after = await engine.inspect(s.id);
  return after && !after.running ? after.exitCode : undefined;
}

export async function streamLogs(
  engine: ContainerEngine,
  s: SandboxInfo,
  io: Stdio,
  opts: { follow?: boolean; tail?: number },
): Promise<void> {
  const details = await engine.inspect(s.id);
  const stream = await engine.logs(s.id, opts);
  if (details?.tty) stream.pipe(io.stdout, { end: false });
  else engine.demux(stream, io.stdout, io.stderr);
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}
