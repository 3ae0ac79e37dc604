/**
 * From what the user asked (agent, flags, config) to a SandboxSpec. Pure apart from reading env
 * files, so the merging rules are unit-testable.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { type StoredToken, withStoredToken } from '../auth/token.js';
import type { Devcontainer } from '../config/devcontainer.js';
import { parseSize } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { EngineKind, Isolation } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { containerName, DEFAULT_PROFILE, validateProfile, type Workspace } from '../workspace/identity.js';
import {
  type InjectedCredential,
  type ServedPlaceholders,
  withPlaceholders,
} from '../workspace/placeholders.js';
import { refuseSecretsWithoutGateway, withSecrets } from '../workspace/secrets.js';
import { type HostUser, hostUser, type UserPlan } from '../workspace/userns.js';
import { cloneSource } from './clone.js';
import { buildEnv } from './env.js';
import { emptyDir, emptyFile, hiddenInside, privateDirs } from './hidden.js';
import { withHostSettings } from './host-settings.js';
import { isolationFor, userForIsolation } from './isolation.js';
import { validateMaskDir } from './masks.js';
import { parseMount } from './mounts.js';
import { parsePort } from './ports.js';
import type { SandboxSpec } from './spec.js';

export interface RunRequest {
  agent: AgentSpec;
  workspace: Workspace;
  image: string;
  engine: EngineKind;
  user: UserPlan;
  session: string;
  /** agent: start the agent CLI; shell: a shell, or `command` instead of the agent. */
  mode: 'agent' | 'shell';
  /** Extra args after `--` (agent mode), or the command to run (shell mode). */
  args: string[];
  name?: string;
  profile?: string;
  env: string[];
  envFiles: string[];
  yolo?: boolean;
  /** undefined: config auto_remove decides. */
  rm?: boolean;
  detach: boolean;
  /** Terminal facts from the caller, so tests can pass their own. */
  stdinIsTTY: boolean;
  /** Point the agent at a model endpoint (corral demo, tests). */
  endpoint?: { env: Record<string, string>; files: Record<string, string>; args: string[] };
  /** Credentials the gateway injects for the endpoint (a provider's key); the env holds their placeholders. */
  endpointCredentials?: InjectedCredential[];
  /** The placeholders the workspace's lingering gateway swaps now, by real value: reused. */
  servedPlaceholders?: ServedPlaceholders;
  host: NodeJS.ProcessEnv;
  /** Extra mounts from flags (config `mounts` are added here). */
  mounts?: string[];
  allowSensitiveMounts?: boolean;
  ports?: string[];
  /** Masks recorded with `corral mask` (config `masks` are added here). */
  masks?: string[];
  /** Workspace files shadowed by an empty read-only file (masked credential findings). */
  maskedFiles?: string[];
  /** Publish ports on all host addresses instead of 127.0.0.1. */
  publicPorts?: boolean;
  /** A trusted project's devcontainer.json: its env, forwarded ports and post-create command. */
  devcontainer?: Pick<Devcontainer, 'env' | 'ports' | 'postCreate'>;
  /** --host-settings / --no-host-settings; undefined lets config decide. */
  hostSettings?: boolean;
  /** The args carry a headless prompt (--prompt). */
  headless?: boolean;
  /** A long-lived token stored with `corral auth setup-token`: used unless the user names a key. */
  storedToken?: StoredToken;
  /** Decided by the caller (which starts the gateway); undefined: config `network` (open or none). */
  network?: SandboxSpec['network'];
  /** --isolation; undefined: config (agents.<name>.isolation, then isolation) decides. */
  isolation?: Isolation;
  /** Who the host user is (the uid a gVisor sandbox's files go back to); default: this process's. */
  hostUser?: HostUser;
  /** `--secret-env KEY[@host,…]`: env values the gateway injects (the sandbox sees placeholders). */
  secretEnv?: string[];
}

function networkFor(req: RunRequest, config: Config, ports: unknown[]): SandboxSpec['network'] {
  const network = req.network ?? (config.network === 'none' ? { mode: 'none' } : { mode: 'open' });
  if (ports.length && network.mode === 'none') {
    throw new CorralError(
      'BAD_INPUT',
      'Publishing ports needs a network, and --network none gives the sandbox none.',
      'Use --network gateway (ports are relayed) or drop --port/ports.',
    );
  }
  return network;
}

const INSTRUCTIONS_LIMIT = 64 * 1024;

/** A masked file's path as the scan reports it: relative, POSIX, inside the workspace. */
function validateMaskedFile(path: string): string {
  const parts = path.split('/');
  if (!path || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new CorralError(
      'BAD_INPUT',
      `Cannot mask the file "${path}": not a path inside the workspace.`,
      'Mask files by the path `corral scan` lists.',
    );
  }
  return path;
}

/** AGENTS.md for agents that read another name, when the workspace has no file of that name. */
async function instructionsArgs(agent: AgentSpec, workspace: string): Promise<string[]> {
  if (!agent.instructionsArgs || agent.instructionsFile === 'AGENTS.md') return [];
  if (existsSync(join(workspace, agent.instructionsFile))) return [];
  const text = await readFile(join(workspace, 'AGENTS.md'), 'utf8').catch(() => undefined);
  if (!text?.trim()) return [];
  const body = `Instructions from AGENTS.md in the workspace root (read it as your ${agent.instructionsFile}):\n\n${text.slice(0, INSTRUCTIONS_LIMIT)}`;
  return agent.instructionsArgs.map((a) => a.replaceAll('{instructions}', body));
}

export async function planSandbox(req: RunRequest, config: Config): Promise<SandboxSpec> {
  const agentConfig = config.agents[req.agent.name] ?? {};
  const yolo = req.yolo ?? agentConfig.yolo ?? false;
  const dev = req.devcontainer;
  const argv =
    req.mode === 'shell'
      ? req.args.length
        ? req.args
        : ['/bin/bash', '-l']
      : [
          ...req.agent.command,
          ...(yolo ? ((req.headless ? req.agent.headlessYoloArgs : undefined) ?? req.agent.yoloArgs) : []),
          ...(await instructionsArgs(req.agent, req.workspace.path)),
          ...(agentConfig.args ?? []),
          ...(req.endpoint?.args ?? []),
          ...req.args,
        ];
  const named = await buildEnv({
    agentDefaults: { ...dev?.env, ...req.agent.env, ...(req.endpoint?.env ?? {}) },
    global: config.env,
    perAgent: agentConfig.env,
    envFiles: req.envFiles,
    flags: req.env,
    host: req.host,
  });
  const built = withStoredToken(req.agent, named, req.storedToken);
  const hidden = hiddenInside(req.workspace.path, privateDirs(req.host));
  const network = networkFor(req, config, [
    ...(dev?.ports ?? []),
    ...(config.ports ?? []),
    ...(req.ports ?? []),
  ]);
  // Behind the gateway the agent's keys stay on the host; the sandbox holds placeholders.
  // So do GitHub tokens and the env the user marks secret (src/workspace/secrets.ts).
  const secrets = {
    host: req.host,
    secretEnv: config.secret_env,
    github: config.github,
    flags: req.secretEnv ?? [],
    served: req.servedPlaceholders,
  };
  if (network.mode !== 'gateway')
    refuseSecretsWithoutGateway({ ...secrets, env: built, credentials: [] }, network.mode);
  const { env, credentials } =
    network.mode === 'gateway'
      ? withSecrets({
          ...secrets,
          ...withPlaceholders(
            req.agent,
            built,
            (req.endpointCredentials ?? []).map((c) => c.placeholder),
            req.servedPlaceholders,
          ),
        })
      : { env: built, credentials: [] };
  // A detached sandbox keeps a TTY so `corral attach` gets a real terminal later.
  const tty = req.detach ? true : req.stdinIsTTY;
  const isolation = isolationFor(config, req.agent.name, req.isolation);
  return {
    agent: req.agent.name,
    image: req.image,
    workspace: req.workspace,
    profile: validateProfile(req.profile ?? DEFAULT_PROFILE),
    session: req.session,
    // A shell beside a running agent is a second container, not a clash with the first.
    name:
      req.name ??
      (req.mode === 'shell' && !req.detach
        ? `${containerName(req.workspace, req.agent.name)}-sh-${req.session.slice(0, 6)}`
        : containerName(req.workspace, req.agent.name)),
    argv,
    env,
    tty,
    stdin: true,
    user: userForIsolation(req.user, isolation, req.hostUser ?? hostUser()),
    isolation,
    limits: { pids: config.limits.pids, memoryBytes: parseSize(config.limits.memory) },
    engine: req.engine,
    detached: req.detach,
    autoRemove: req.rm ?? config.auto_remove,
    init: [...(dev?.postCreate ?? []), ...(req.mode === 'agent' ? (agentConfig.init ?? []) : [])],
    files:
      (req.hostSettings ?? agentConfig.host_settings ?? config.host_settings)
        ? await withHostSettings(req.agent, req.host.HOME ?? homedir(), req.endpoint?.files ?? {})
        : (req.endpoint?.files ?? {}),
    masks: [...new Set([...(config.masks ?? []), ...(req.masks ?? [])].map(validateMaskDir))],
    ...(req.engine === 'kubernetes' && config.kubernetes?.workspace === 'git'
      ? { clone: await cloneSource(req.workspace.path, network.mode) }
      : {}),
    network,
    credentials:
      network.mode === 'gateway' ? [...credentials, ...(req.endpointCredentials ?? [])] : credentials,
    hidden: { paths: hidden, emptyDir: hidden.length ? await emptyDir() : '' },
    maskedFiles: {
      paths: [...new Set((req.maskedFiles ?? []).map(validateMaskedFile))],
      emptyFile: req.maskedFiles?.length ? await emptyFile() : '',
    },
    ports: [
      ...new Set([...(dev?.ports.map(String) ?? []), ...(config.ports ?? []), ...(req.ports ?? [])]),
    ].map((p) => parsePort(p, req.publicPorts ?? false)),
    mounts: [...(config.mounts ?? []), ...(req.mounts ?? [])].map((m) =>
      parseMount(m, { workspace: req.workspace.path, allowSensitive: req.allowSensitiveMounts ?? false }),
    ),
  };
}
