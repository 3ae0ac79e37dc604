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
import { toolEgressEnv, toolEgressInit } from '../gateway/sandbox-tools.js';
import { HOSTS_FILE, SERVICE_ROUTES_FILE } from '../gateway/service-files.js';
import {
  CA_PUBLIC_FILE,
  FORWARDER_FILE,
  GATEWAY_CONTAINER_PATHS,
  SANDBOX_CA_BUNDLE,
  SANDBOX_GATEWAY_DIR,
  SANDBOX_NODE_CA,
  SANDBOX_PROXY_PORT,
} from '../gateway/settings.js';
import { HOST_CA_PATH, SANDBOX_HOME, WORKSPACE_DIR } from '../images/recipes.js';
import { agentLabels, homeVolumeName, LABELS, type Workspace } from '../workspace/identity.js';
import type { InjectedCredential } from '../workspace/placeholders.js';
import type { UserPlan } from '../workspace/userns.js';
import { maskMounts } from './masks.js';

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
}

const SANDBOX_INBOUND_DIR = '/run/corral/in';

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
 * The gateway terminates TLS for the agent's API with the install's CA: the sandbox's trust stores
 * get it on top of what they had (system roots, and the host CA for Node), built at start.
 */
export function caTrustInit(): string[] {
  const ca = `${SANDBOX_GATEWAY_DIR}/${CA_PUBLIC_FILE}`;
  return [
    `{ cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null; cat ${ca}; } > ${SANDBOX_CA_BUNDLE}`,
    `{ cat ${HOST_CA_PATH} 2>/dev/null; cat ${ca}; } > ${SANDBOX_NODE_CA}`,
  ];
}

export function caTrustEnv(): Record<string, string> {
  return {
    SSL_CERT_FILE: SANDBOX_CA_BUNDLE,
    CURL_CA_BUNDLE: SANDBOX_CA_BUNDLE,
    REQUESTS_CA_BUNDLE: SANDBOX_CA_BUNDLE,
    GIT_SSL_CAINFO: SANDBOX_CA_BUNDLE,
    PIP_CERT: SANDBOX_CA_BUNDLE,
    NODE_EXTRA_CA_CERTS: SANDBOX_NODE_CA,
  };
}

/** Env that points every common HTTP client at the forwarder in front of the gateway. */
export function proxyEnv(nodeOptions?: string): Record<string, string> {
  const url = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    // Node's own fetch and http honour the proxy variables only when asked (Node ≥ 22.21), and
    // then warn on every start that the agent doing it is experimental.
    NODE_USE_ENV_PROXY: '1',
    // Added to the user's own NODE_OPTIONS, not in place of them.
    NODE_OPTIONS: [nodeOptions, '--disable-warning=UNDICI-EHPA'].filter(Boolean).join(' '),
    // ssh/git over ssh, JVM tools, and where refusals are written (gateway/sandbox-tools.ts).
    ...toolEgressEnv(),
  };
}

/** The file the forwarder writes once it listens (shell syntax: for sh inside the sandbox). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh.
export const FORWARDER_READY = '"${TMPDIR:-/tmp}/corral-forwarder.ready"';

/**
 * Start the forwarder (gateway socket → 127.0.0.1:3128) and wait until it listens, before anything
 * else runs. Images without Node on PATH (devcontainer bases) have corral's under /opt/corral.
 */
export function forwarderInit(inbound: number[] = [], bridge?: SandboxSpec['bridge']): string[] {
  const dir = SANDBOX_GATEWAY_DIR;
  const args = [
    `--out ${SANDBOX_PROXY_PORT}=${dir}/${GATEWAY_CONTAINER_PATHS.socketFile}`,
    // Tells the gateway this sandbox is there, so it does not idle out under a quiet agent.
    `--hold ${dir}/${GATEWAY_CONTAINER_PATHS.socketFile}`,
    ...(bridge ? [`--out ${bridge.port}=${dir}/${bridge.socketName}`] : []),
    // The workspace's services (started now or later) on their own loopback addresses.
    `--services ${dir}/${SERVICE_ROUTES_FILE}`,
    ...inbound.map((p) => `--in ${SANDBOX_INBOUND_DIR} ${p}`),
  ];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh.
  const log = '"${TMPDIR:-/tmp}/corral-forwarder.log"';
  const ready = FORWARDER_READY;
  // The wait uses only shell builtins but `sleep`, and gives up at once if the forwarder exits.
  return [
    'CORRAL_NODE=$(command -v node || echo /opt/corral/node/bin/node)',
    `rm -f ${ready}`,
    `"$CORRAL_NODE" ${dir}/${FORWARDER_FILE} ${args.join(' ')} --ready ${ready} > ${log} 2>&1 &`,
    'corral_fwd=$!',
    `i=0; until [ -s ${ready} ]; do i=$((i+1)); if [ $i -gt 1000 ] || ! kill -0 $corral_fwd 2>/dev/null; then echo "corral: the egress forwarder did not start:" >&2; cat ${log} >&2; exit 70; fi; sleep 0.01; done`,
    ...toolEgressInit(`${dir}/${CA_PUBLIC_FILE}`),
    'unset CORRAL_NODE i corral_fwd',
  ];
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

export { shellQuote };

export function toContainerSpec(s: SandboxSpec): ContainerSpec {
  const gateway = s.network.mode === 'gateway' ? s.network : undefined;
  const inbound = s.portRelay ? s.ports.map((p) => p.containerPort) : [];
  const prologue = gateway
    ? [...(gateway.trustCa ? caTrustInit() : []), ...forwarderInit(inbound, s.bridge)]
    : [];
  const wrapped = wrapCommand(s.argv, [...prologue, ...s.init], s.files);
  return {
    name: s.name,
    image: s.image,
    cmd: wrapped.cmd,
    env: {
      ...s.env,
      ...(gateway ? proxyEnv(s.env.NODE_OPTIONS) : {}),
      ...(gateway?.trustCa ? caTrustEnv() : {}),
      ...wrapped.env,
      HOME: SANDBOX_HOME,
      CORRAL_SANDBOX: '1',
      CORRAL_AGENT: s.agent,
    },
    labels: {
      ...agentLabels(s.workspace, s.agent, s.profile, s.session),
      [LABELS.detached]: String(s.detached),
      [LABELS.autoRemove]: String(s.autoRemove),
      [LABELS.isolation]: s.isolation,
      ...(s.user.reclaimTo ? { [LABELS.reclaimTo]: `${s.user.reclaimTo.uid}:${s.user.reclaimTo.gid}` } : {}),
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
