/**
 * The config file's shape, as data. Keys are snake_case (YAML convention, like VibePod's config);
 * objects are strict so a typo is an error naming the key, never a silently ignored setting.
 */
import { z } from 'zod';
import { ISOLATIONS } from '../engine/isolation.js';
import { customAgentIssues } from './custom-agent.js';
import { EgressSchema } from './egress-schema.js';
import { McpServersSchema } from './mcp-schema.js';
import { GithubSchema, SecretEnvSchema } from './secrets-schema.js';

export { type McpServerConfig, McpServerConfigSchema } from './mcp-schema.js';

/**
 * runc: an ordinary container; gvisor: the agent's syscalls go to gVisor's user-space kernel
 * (runsc), not the host's. Also `--isolation` and CORRAL_ISOLATION.
 */
export const IsolationSchema = z.enum(ISOLATIONS);

import { findAgent } from '../agents/index.js';

const isBuiltInAgent = (name: string) => findAgent(name)?.name === name;

const envMap = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
  z.string(),
);

/** `env:` accepts a map of values, or a list of names whose values come from the host environment. */
export const EnvSchema = z.union([envMap, z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/))]);

/** Sizes like `8g`, `512m`, or a byte count. */
export const SizeSchema = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*[kmgt]?b?$/i, 'a size like 512m or 8g'),
]);

export const AgentConfigSchema = z.strictObject({
  /** Pin another version of the agent's CLI, or `latest`. */
  version: z.string().min(1).optional(),
  /** Use this image instead of building one. */
  image: z.string().min(1).optional(),
  auto_pull: z.boolean().optional(),
  env: EnvSchema.optional(),
  /** Shell commands run in the sandbox (as the agent user) before the agent starts. */
  init: z.array(z.string()).optional(),
  /** Always add the agent's autonomy flag. */
  yolo: z.boolean().optional(),
  /** Extra args always passed to the agent. */
  args: z.array(z.string()).optional(),
  /** Copy your own settings for this agent (e.g. ~/.claude/settings.json, CLAUDE.md) in at start. */
  host_settings: z.boolean().optional(),
  /** Where the login broker refreshes this agent's OAuth tokens (default: the CLI's own endpoint). */
  oauth_token_url: z.string().url().optional(),
  /** This agent's isolation level (wins over the top-level `isolation`). */
  isolation: IsolationSchema.optional(),
  // A custom agent (a name corral does not know) sets these; see customAgentIssues.
  /** Containerfile steps installing the agent onto corral's Node image (corral writes the FROM). */
  containerfile: z
    .string()
    .regex(/^(\/|~\/)/, 'an absolute path (or one starting with ~/)')
    .optional(),
  /** argv of the agent in the sandbox. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Args of its autonomy mode (`--yolo`). */
  yolo_args: z.array(z.string()).optional(),
  /** Args for one headless prompt (`--prompt`); `{prompt}` is replaced by the prompt. */
  headless_args: z.array(z.string()).optional(),
  /** Paths under $HOME kept in the agent's state volume (its login, settings, history). */
  home: z.array(z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+/, 'a path relative to $HOME')).optional(),
  /** Hosts the agent must reach (its API and login), allowed by the gateway. */
  api_hosts: z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/i, 'a host name')).optional(),
  /**
   * API keys it reads: a name passed in when set on the host, or {env, host, header} for one the
   * gateway injects (the sandbox sees a placeholder).
   */
  keys: z
    .array(
      z.union([
        z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
        z.strictObject({
          env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
          host: z.string().regex(/^[a-z0-9.-]+$/i, 'a host name'),
          header: z.enum(['authorization', 'x-api-key', 'x-goog-api-key']).default('authorization'),
        }),
      ]),
    )
    .optional(),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/**
 * Host commands the agent runs through the bridge. Read from the global config only: a project's
 * `.corral.yaml` cannot widen what runs on the host (its `bridge` key is ignored).
 */
export const BridgeSchema = z.strictObject({
  /** Host environment variables passed to host commands, beyond PATH, HOME, LANG, TERM and a few more. */
  env: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
        .refine((n) => !n.startsWith('CORRAL_'), "corral's own variables are never passed on"),
    )
    .default([]),
  /** Run host commands under bubblewrap (home and secrets hidden, no network); default: where it works. */
  confine: z.boolean().optional(),
  /** Confined host commands may use the host's network. */
  network: z.boolean().default(false),
});
export type BridgeSettings = z.infer<typeof BridgeSchema>;

/**
 * The Kubernetes engine (`engine: kubernetes`): the kubeconfig's current context (or `context`),
 * pods in `namespace`. `node_folders` (default: true unless `storage_class` is set): pods may use
 * folders of the node (the cluster is this machine); false, no pod has one, volumes are claims (of
 * `storage_class`, else the cluster's default class) and corral's files are copied in through the
 * API. `workspace: hostPath` mounts the workspace from the node (default with node folders);
 * `upload` syncs a copy in a cluster volume (`corral pull`; the default without); `git` clones the
 * workspace's origin into one, through the gateway.
 */
export const KubernetesSchema = z.strictObject({
  context: z.string().min(1).optional(),
  namespace: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
      'a Kubernetes namespace name (lowercase letters, digits, -)',
    )
    .default('corral'),
  storage_class: z.string().min(1).optional(),
  /** Where corral pushes its images for the cluster to pull (unset: imported into a cluster on this machine). */
  registry: z.string().min(1).optional(),
  node_folders: z.boolean().optional(),
  /** An existing kubernetes.io/dockerconfigjson Secret in the namespace: every pod pulls its image with it. */
  pull_secret: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Secret name (lowercase letters, digits, -, .)')
    .optional(),
  workspace: z.enum(['hostPath', 'upload', 'git']).optional(),
});
export type KubernetesConfig = z.infer<typeof KubernetesSchema>;

export const ConfigSchema = z.strictObject({
  /**
   * podman, docker, kubernetes, an engine on another machine (ssh://user@host[:port]), or an
   * engine's socket (unix:///…, tcp://host:port, /path), as --engine takes.
   */
  engine: z
    .union([
      z.enum(['podman', 'docker', 'kubernetes']),
      z
        .string()
        .regex(
          /^(ssh:\/\/|unix:\/\/\/|tcp:\/\/|\/)[^\s]+$/,
          'expected "podman", "docker", "kubernetes", ssh://user@host[:port] or a socket (unix:///PATH, tcp://HOST:PORT)',
        ),
    ])
    .optional(),
  kubernetes: KubernetesSchema.optional(),
  /** The agent `corral run` starts when none is named. */
  default_agent: z.string().optional(),
  /**
   * Extra host paths: `HOST[:SANDBOX][:rw]`, read-only unless `:rw`. A project's mounts need
   * `corral trust`; sensitive paths (~/.ssh, ~/.aws, …) need --allow-sensitive-mounts.
   */
  mounts: z.array(z.string().min(1)).optional(),
  /** Workspace folders shadowed by a per-workspace volume in the sandbox (node_modules, target). */
  masks: z.array(z.string().min(1)).optional(),
  /** Sandbox ports published on the host's 127.0.0.1: `3000` or `HOST:SANDBOX`. */
  ports: z
    .array(
      z.union([
        z.number().int().min(1).max(65535),
        z.string().regex(/^\d{1,5}(:\d{1,5})?$/, 'a port like 3000 or 8080:3000'),
      ]),
    )
    .optional(),
  /** Pull user-given agent images before each run (agents.<name>.auto_pull wins, --pull/--no-pull over both). */
  auto_pull: z.boolean().default(false),
  /** Remove sandbox containers when the agent exits. Login state lives in volumes, so nothing is lost. */
  auto_remove: z.boolean().default(true),
  /** Extra CAs to trust in builds and sandboxes: auto (detected from the host), off, or a PEM file. */
  host_ca: z.string().default('auto'),
  /** Registry image to start from when one is reachable; `{suite}` is the Debian release. */
  base_image: z.string().optional(),
  limits: z
    .strictObject({
      pids: z.number().int().positive().default(4096),
      memory: SizeSchema.default('8g'),
    })
    .prefault({}),
  /** Copy each agent's settings files from your home in at start (agents.<name>.host_settings wins). */
  host_settings: z.boolean().default(false),
  /**
   * Scan the workspace for credentials (keys, tokens, .env secrets) before a sandbox starts on it,
   * and ask (or, without a terminal, refuse) while findings are untriaged. A project file cannot turn
   * this off until the project is trusted.
   */
  credential_check: z.boolean().default(true),
  /** Record attached terminal sessions (asciicast v2) and keep the newest `keep`. */
  transcripts: z
    .strictObject({ enabled: z.boolean().default(true), keep: z.number().int().min(0).default(200) })
    .prefault({}),
  env: EnvSchema.default({}),
  /** Env values the gateway injects on requests to their hosts only; the sandbox sees placeholders. */
  secret_env: SecretEnvSchema.optional(),
  /** A GitHub token the gateway injects, optionally scoped to repositories and requests. */
  github: GithubSchema.optional(),
  /**
   * gateway: no network of its own, out only through the workspace's egress gateway (policy below);
   * open: the engine's ordinary network, unfiltered; none: nothing at all.
   */
  network: z.enum(['gateway', 'open', 'none']).default('gateway'),
  /** The sandbox's isolation level (agents.<name>.isolation wins, --isolation over both). */
  isolation: IsolationSchema.default('runc'),
  /** What sandboxes may reach through the egress gateway, beyond the agent's own API domains. */
  egress: EgressSchema,
  /** Service containers started with the workspace once trusted; sandboxes reach each by its name. */
  services: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'a service name like postgres or redis'),
      z.strictObject({
        image: z.string().min(1),
        env: z.record(z.string(), z.string()).default({}),
        /** The port it listens on (default: the image's exposed ports). */
        port: z.number().int().min(1).max(65535).optional(),
        /** Several ports it listens on (default: the image's exposed ports). */
        ports: z.array(z.number().int().min(1).max(65535)).min(1).max(16).optional(),
      }),
    )
    .default({}),
  /** MCP servers handed to every agent in its own config format, beside the host bridge. */
  mcp_servers: McpServersSchema,
  /** Seconds an agent's request (a host command, a service) waits for the user's answer; then no. Default 60. */
  approval_timeout: z.number().int().min(1).max(3600).optional(),
  /** Host commands: their environment and confinement (global config only). */
  bridge: BridgeSchema.optional(),
  /** `corral daemon`: warm_pool sandboxes kept created per workspace, agent and profile (0: off). */
  daemon: z
    .strictObject({
      warm_pool: z
        .number({ message: 'a whole number of sandboxes (0 turns the warm pool off)' })
        .int('a whole number of sandboxes (0 turns the warm pool off)')
        .min(0, 'at least 0 (0 turns the warm pool off)')
        .max(4, 'at most 4 per workspace, agent and profile')
        .optional(),
    })
    .optional(),
  agents: z
    .record(z.string(), AgentConfigSchema)
    .superRefine((agents, ctx) => {
      for (const issue of customAgentIssues(agents, isBuiltInAgent))
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    })
    .default({}),
  /** The login broker (brokered OAuth logins, `corral auth`): how often it checks, how early it refreshes. */
  auth: z
    .strictObject({
      refresh_check_seconds: z.number().int().positive().default(300),
      refresh_ahead_seconds: z.number().int().min(0).default(3600),
    })
    .prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
