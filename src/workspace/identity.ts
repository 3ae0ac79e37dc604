/**
 * The names and labels the engine sees (DESIGN.md "Names the engine sees"). `list`, `stop` and
 * cleanup find things by label only, so every object corral creates carries them.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { CorralError } from '../errors.js';

export const LABELS = {
  managed: 'io.corral.managed',
  workspace: 'io.corral.workspace',
  workspacePath: 'io.corral.workspace-path',
  agent: 'io.corral.agent',
  profile: 'io.corral.profile',
  session: 'io.corral.session',
  role: 'io.corral.role',
  detached: 'io.corral.detached',
  autoRemove: 'io.corral.auto-remove',
  /** The pid of the corral process that made the container (see sandbox/orphans.ts). */
  ownerPid: 'io.corral.owner-pid',
  /** runc or gvisor (engine/isolation.ts). */
  isolation: 'io.corral.isolation',
  /** gateway, open or none: a shell joining the sandbox keeps keys out the same way. */
  network: 'io.corral.network',
  /** "uid:gid" the workspace's sandbox-made files go back to when a detached sandbox stops. */
  reclaimTo: 'io.corral.reclaim-to',
  /**
   * A gateway sandbox's published ports, `hostIp:hostPort:containerPort,…`: on a remote engine no
   * relay container holds them, and `corral stop` undoes their SSH forwards from this label.
   */
  inboundPorts: 'io.corral.inbound-ports',
} as const;

export const DEFAULT_PROFILE = 'default';

/**
 * A profile name becomes part of a volume name and a folder under corral's data dir, so it is
 * kept to a shape that can be neither a path (`..`, `/`) nor an engine-name surprise.
 */
const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function validateProfile(name: string): string {
  if (!PROFILE_NAME.test(name)) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid profile name "${name}".`,
      'Use 1-32 lowercase letters, digits, - or _, starting with a letter or digit (e.g. work).',
    );
  }
  return name;
}

export interface Workspace {
  id: string;
  path: string;
}

/** First 12 hex of sha256 of the real path: the same folder through a symlink is the same workspace. */
export function workspaceIdOf(realPath: string): string {
  return createHash('sha256').update(realPath).digest('hex').slice(0, 12);
}

export async function resolveWorkspace(dir: string): Promise<Workspace> {
  let path: string;
  try {
    path = await realpath(dir);
  } catch {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `Workspace folder ${dir} does not exist.`,
      'Pass an existing folder with --workdir.',
    );
  }
  if (!(await stat(path)).isDirectory()) {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `Workspace ${dir} is not a folder.`,
      'Pass a folder with --workdir.',
    );
  }
  if (path === '/') {
    throw new CorralError(
      'WORKSPACE_INVALID',
      'Refusing to use / as a workspace.',
      'Run corral inside a project folder.',
    );
  }
  return { id: workspaceIdOf(path), path };
}

export function containerName(ws: Workspace, agent: string): string {
  return `corral-${ws.id}-${agent}`;
}

/**
 * The agent's writable home in one workspace: a volume per workspace, agent and profile, so what
 * one workspace's sandbox plants in its home (shell rc files, agent hooks, its bridge token, its
 * history) never reaches another workspace. Only the login is shared, through the host store.
 */
export function homeVolumeName(ws: Pick<Workspace, 'id'>, agent: string, profile = DEFAULT_PROFILE): string {
  return `corral-${ws.id}-${agent}-${validateProfile(profile)}-home`;
}

export function homeVolumeLabels(
  ws: Pick<Workspace, 'id'>,
  agent: string,
  profile: string,
): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.workspace]: ws.id,
    [LABELS.agent]: agent,
    [LABELS.profile]: profile,
    [LABELS.role]: 'state',
  };
}

/** The home every workspace shared before homes were per workspace; only read to migrate its login. */
export function legacyHomeVolumeName(agent: string, profile = DEFAULT_PROFILE): string {
  return `corral-${agent}-${validateProfile(profile)}-home`;
}

export function sessionId(): string {
  return createHash('sha256')
    .update(`${process.pid}:${Date.now()}:${Math.random()}`)
    .digest('hex')
    .slice(0, 12);
}

export function agentLabels(
  ws: Workspace,
  agent: string,
  profile: string,
  session: string,
): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.workspace]: ws.id,
    [LABELS.workspacePath]: ws.path,
    [LABELS.agent]: agent,
    [LABELS.profile]: profile,
    [LABELS.session]: session,
    [LABELS.role]: 'agent',
  };
}
