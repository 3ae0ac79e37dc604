/**
 * SandboxSpec → ContainerSpec, as a pure function: what a sandbox is (mounts, user, hardening,
 * labels, the start command) is decided here and nowhere else, so it can be unit-tested.
 */

import { shellQuote } from '../engine/command-line.js';
import {
  type ContainerSpec,
  type EngineKind,
  hostAlias,
  type Isolation,
  type Mount,
  type PortBinding,
} from '../engine/index.js';
import { HOSTS_FILE } from '../gateway/service-files.js';
import { SANDBOX_GATEWAY_DIR } from '../gateway/settings.js';
import { SANDBOX_HOME, WORKSPACE_DIR } from '../images/recipes.js';
import { agentLabels, homeVolumeName, LABELS, type Workspace } from '../workspace/identity.js';
import type { InjectedCredential } from '../workspace/placeholders.js';
import type { UserPlan } from '../workspace/userns.js';
import { CLONE_URL_ENV, cloneInit } from './clone.js';
import { caTrustEnv, caTrustInit, forwarderInit, proxyEnv, SANDBOX_INBOUND_DIR } from './gateway-side.js';
import { maskMounts } from './masks.js';
import type { WarmTaken } from './warm.js';

export interface SandboxSpec {
  agent: string;
  image: string;
  workspace: Workspace;
  profile: string;
  session: string;
  name: string;
  /** argv run inside (agent command + args, or a shell command). */
  argv: string[];
  env: Record<string, string>;
  tty: boolean;
  /** Keep stdin open (interactive or piped sessions; false for detached runs without -i). */
  stdin: boolean;
  user: UserPlan;
  limits: { pids: number; memoryBytes: number };
  engine: EngineKind;
  /** The OCI runtime the sandbox, its port relay and its services run on (gateway: always runc). */
  isolation: Isolation;
  detached: boolean;
  autoRemove: boolean;
  /** Shell commands run before argv, as the sandbox user, in the workspace. */
  init: string[];
  /** Files written under $HOME before start (endpoint config), path relative to $HOME → content. */
  files: Record<string, string>;
  /** The git URL the sandbox clones its workspace from at its first start (Kubernetes `workspace: git`). */
  clone?: string;
  /** Extra host paths, already validated (mounts.ts). */
  mounts: Mount[];
  ports: PortBinding[];
  /** Validated workspace-relative folders shadowed by mask volumes. */
  masks: string[];
  /**
   * gateway: no network, out only through the workspace gateway's socket folder (mounted
   * read-only); none: no network; open: the engine's ordinary network.
   */
  network: { mode: 'gateway'; socketDir: string; trustCa: boolean } | { mode: 'open' } | { mode: 'none' };
  /** Real keys behind the sandbox's placeholders, for the gateway (never in the container). */
  credentials: InjectedCredential[];
  /** corral's own folders inside the workspace, covered by `emptyDir` (see hidden.ts). */
  hidden: { paths: string[]; emptyDir: string };
  /** Workspace files with credentials the user chose to mask, each covered by the read-only `emptyFile`. */
  maskedFiles: { paths: string[]; emptyFile: string };
  /**
   * Behind the gateway the sandbox has no network to publish ports on: a relay container
   * publishes them and reaches the sandbox's ports through sockets in `inboundDir`.
   */
  portRelay?: { image: string; user: string; inboundDir: string };
  /** The host bridge's socket (in the gateway folder), served to the sandbox on 127.0.0.1:port. */
  bridge?: { socketName: string; port: number };
  /** A warm container this run takes instead of creating one (sandbox/warm.ts). */
  warm?: WarmTaken;
}

export const formatInboundPorts = (ports: PortBinding[]): string =>
  ports.map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}`).join(',');

export function parseInboundPorts(label: string | undefined): PortBinding[] {
  const out: PortBinding[] = [];
  for (const item of (label ?? '').split(',')) {
    const m = /^([0-9a-f.:]+):(\d+):(\d+)$/i.exec(item);
    if (m) out.push({ hostIp: m[1]!, hostPort: Number(m[2]), containerPort: Number(m[3]) });
  }
  return out;
}

/** The socket a gateway sandbox serves its port on, in its inbound folder (the relay's other end). */
export const inboundSocket = (inboundDir: string, containerPort: number): string =>
  `${inboundDir}/${containerPort}.sock`;

/** The relay container publishing a gateway sandbox's ports (see src/gateway/relay.ts). */
export function relayContainerSpec(s: SandboxSpec): ContainerSpec | undefined {
  if (!s.portRelay || !s.ports.length) return undefined;
  return {
    name: `${s.name}-ports`,
    image: s.portRelay.image,
    cmd: [
      'node',
      '/opt/corral/gateway.mjs',
      'relay',
      ...s.ports.map((p) => `${p.containerPort}=${SANDBOX_INBOUND_DIR}/${p.containerPort}.sock`),
    ],
    env: {},
    labels: {
      ...agentLabels(s.workspace, s.agent, s.profile, s.session),
      [LABELS.role]: 'ports',
    },
    user: s.portRelay.user,
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [{ type: 'bind', source: s.portRelay.inboundDir, target: SANDBOX_INBOUND_DIR, readOnly: true }],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    pidsLimit: 64,
    memoryBytes: 128 * 1024 * 1024,
    ports: s.ports,
    autoRemove: true,
    // The relay stays on runc, like the gateway: it is corral's own forwarding code and runs
    // nothing of the agent's. (On gVisor too, the published port did not answer: see the README.)
  };
}

/**
 * Files and init commands run in a tiny sh prologue, then `exec` the real command so it is the
 * container's main process (signals and exit status pass straight through). File contents travel
 * base64-encoded in env vars, so nothing needs shell quoting, and are unset before exec.
 */
export function wrapCommand(argv: string[], init: string[], files: Record<string, string>) {
  if (init.length === 0 && Object.keys(files).length === 0) return { cmd: argv, env: {} };
  const env: Record<string, string> = {};
  const lines: string[] = ['set -e'];
  Object.entries(files).forEach(([rel, content], i) => {
    const name = `CORRAL_FILE_${i}`;
    env[name] = Buffer.from(content).toString('base64');
    const path = `"$HOME"/${shellQuote(rel)}`;
    lines.push(
      `mkdir -p "$(dirname ${path})"`,
      `printf %s "$${name}" | base64 -d > ${path}`,
      `unset ${name}`,
    );
  });
  lines.push(...init);
  lines.push('exec "$@"');
  return { cmd: ['/bin/sh', '-c', lines.join('\n'), 'corral-init', ...argv], env };
}

export function toContainerSpec(s: SandboxSpec): ContainerSpec {
  const gateway = s.network.mode === 'gateway' ? s.network : undefined;
  const inbound = s.portRelay ? s.ports.map((p) => p.containerPort) : [];
  const prologue = gateway
    ? [...(gateway.trustCa ? caTrustInit() : []), ...forwarderInit(inbound, s.bridge)]
    : [];
  // The clone goes out through the forwarder, so after it; before anything that needs the files.
  const wrapped = wrapCommand(s.argv, [...prologue, ...(s.clone ? cloneInit() : []), ...s.init], s.files);
  return {
    name: s.name,
    image: s.image,
    cmd: wrapped.cmd,
    env: {
      ...s.env,
      ...(gateway ? proxyEnv(s.env.NODE_OPTIONS) : {}),
      ...(gateway?.trustCa ? caTrustEnv() : {}),
      ...wrapped.env,
      ...(s.clone ? { [CLONE_URL_ENV]: s.clone } : {}),
      HOME: SANDBOX_HOME,
      CORRAL_SANDBOX: '1',
      CORRAL_AGENT: s.agent,
    },
    labels: {
      ...agentLabels(s.workspace, s.agent, s.profile, s.session),
      [LABELS.detached]: String(s.detached),
      [LABELS.autoRemove]: String(s.autoRemove),
      [LABELS.isolation]: s.isolation,
      [LABELS.network]: s.network.mode,
      ...(s.user.reclaimTo ? { [LABELS.reclaimTo]: `${s.user.reclaimTo.uid}:${s.user.reclaimTo.gid}` } : {}),
      ...(s.portRelay && s.ports.length ? { [LABELS.inboundPorts]: formatInboundPorts(s.ports) } : {}),
    },
    user: s.user.user,
    workdir: WORKSPACE_DIR,
    tty: s.tty,
    openStdin: s.stdin,
    stdinOnce: !s.detached,
    mounts: [
      { type: 'bind', source: s.workspace.path, target: WORKSPACE_DIR },
      { type: 'volume', source: homeVolumeName(s.workspace, s.agent, s.profile), target: SANDBOX_HOME },
      ...s.mounts,
      ...maskMounts(s.workspace, s.masks),
      ...(s.portRelay
        ? [{ type: 'bind' as const, source: s.portRelay.inboundDir, target: SANDBOX_INBOUND_DIR }]
        : []),
      ...s.hidden.paths.map((p) => ({
        type: 'bind' as const,
        source: s.hidden.emptyDir,
        target: `${WORKSPACE_DIR}/${p}`,
        readOnly: true,
      })),
      ...s.maskedFiles.paths.map((p) => ({
        type: 'bind' as const,
        source: s.maskedFiles.emptyFile,
        target: `${WORKSPACE_DIR}/${p}`,
        readOnly: true,
      })),
      ...(gateway
        ? [
            { type: 'bind' as const, source: gateway.socketDir, target: SANDBOX_GATEWAY_DIR, readOnly: true },
            // corral's hosts file names the workspace's services; it is rewritten in place as they come and go.
            {
              type: 'bind' as const,
              source: `${gateway.socketDir}/${HOSTS_FILE}`,
              target: '/etc/hosts',
              readOnly: true,
            },
          ]
        : []),
    ],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    blockUserNamespaces: true,
    pidsLimit: s.limits.pids,
    memoryBytes: s.limits.memoryBytes,
    ...(s.user.idMappings ? { idMappings: s.user.idMappings } : {}),
    ...(s.user.keepId ? { keepId: s.user.keepId } : {}),
    ...(s.network.mode === 'open'
      ? {
          ...(s.ports.length ? { ports: s.ports } : {}),
          // Docker needs the host alias spelled out; Podman adds host.containers.internal itself.
          ...(s.engine === 'docker' ? { extraHosts: [`${hostAlias('docker')}:host-gateway`] } : {}),
        }
      : {
          network: 'none',
          // Its own loopback only: services on their standard ports (80 too) need no capability.
          ...(gateway ? { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } } : {}),
        }),
    // Detached auto-remove is the engine's job; attached sessions remove after reading the exit code.
    autoRemove: s.autoRemove && s.detached,
    isolation: s.isolation,
  };
}
