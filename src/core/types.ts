/**
 * The core's inputs and results as plain types. They mirror the zod schemas in ./schemas.ts (which
 * check the two agree at compile time): the CLI builds these directly, so zod stays off its start
 * path; the daemon validates request bodies with the schemas at its edge.
 */
export type NetworkMode = 'gateway' | 'open' | 'none';

export interface WorkdirInput {
  /** Workspace folder (default: the context's cwd). */
  workdir?: string | undefined;
}

export interface StartSandboxInput extends WorkdirInput {
  /** Agent name or alias; default: config default_agent. */
  agent?: string | undefined;
  /** agent: the agent itself; shell: a shell (or `args` as a command) in the agent's sandbox. */
  mode?: 'agent' | 'shell' | undefined;
  /** Arguments for the agent, or the shell-mode command. */
  args?: string[] | undefined;
  /** Container name (default: corral-<workspace>-<agent>). */
  name?: string | undefined;
  /** `KEY[=VALUE]`; KEY alone copies the value from the context's env. */
  env?: string[] | undefined;
  envFile?: string[] | undefined;
  /** `KEY` or `KEY@host[,host…]`: kept on the host, injected by the gateway on requests to those hosts. */
  secretEnv?: string[] | undefined;
  /** `HOST[:SANDBOX][:rw]`. */
  mounts?: string[] | undefined;
  allowSensitiveMounts?: boolean | undefined;
  /** `[HOST:]SANDBOX`, published on 127.0.0.1 (all addresses with publicPorts). */
  ports?: string[] | undefined;
  publicPorts?: boolean | undefined;
  profile?: string | undefined;
  /** Remove the container when it exits (default: config auto_remove). */
  rm?: boolean | undefined;
  detach?: boolean | undefined;
  /** true: pull the configured image first; false: never pull. */
  pull?: boolean | undefined;
  rebuild?: boolean | undefined;
  noCache?: boolean | undefined;
  /** Point the agent at this model endpoint (loopback URLs are rewritten to the host alias). */
  modelUrl?: string | undefined;
  modelKey?: string | undefined;
  /** A named provider (`corral provider add`): its endpoint, the key the gateway injects, a model. */
  provider?: string | undefined;
  /** With provider: the model (default: the provider's default model). */
  model?: string | undefined;
  /** One headless prompt, then exit (agents with a headless mode). */
  prompt?: string | undefined;
  /** Continue the agent's most recent session in this workspace (its own resume flag). */
  resume?: boolean | undefined;
  /** Start the agent's ACP server (JSON-RPC on stdio) instead of its terminal UI. */
  acp?: boolean | undefined;
  /** The agent's own autonomy mode (e.g. --dangerously-skip-permissions). */
  yolo?: boolean | undefined;
  /** Shell mode: false = always a new container, even if the agent's sandbox is running. */
  join?: boolean | undefined;
  /** Only plan: the podman/docker commands that would do this. */
  dryRun?: boolean | undefined;
  /** false: no transcript of this session. */
  record?: boolean | undefined;
  hostSettings?: boolean | undefined;
  network?: NetworkMode | undefined;
  allow?: string[] | undefined;
  deny?: string[] | undefined;
  allowHost?: number[] | undefined;
  logBodies?: boolean | undefined;
  /** false: skip the workspace credential scan for this start (masked files stay masked). */
  credentialCheck?: boolean | undefined;
  /** runc: a container; gvisor: gVisor's user-space kernel between the agent and the host's. */
  isolation?: 'runc' | 'gvisor' | undefined;
  /**
   * Work in a git worktree of the workspace's repository, on branch corral/<agent>/<name>
   * (true: a new generated name). The sandbox mounts only the worktree (and git's folder).
   */
  worktree?: string | boolean | undefined;
  /** Reopen this conversation of the agent (its resume flag), e.g. from `corral resume`. */
  resumeSession?: string | undefined;
}

export type StartSandboxResult =
  /** An attached or headless run ended (or a shell joined a running sandbox and its command ended). */
  | {
      kind: 'exited';
      exitCode: number;
      /** The agent's conversation id, when corral could name or find it (`corral resume`). */
      agentSession?: string | undefined;
      /** The worktree the agent worked in. */
      worktree?: { name: string; branch: string; path: string } | undefined;
    }
  /** A detached sandbox is running. */
  | { kind: 'detached'; exitCode: 0; name: string; id: string; agent: string }
  /** dryRun: the commands, one shell line each. */
  | { kind: 'dry-run'; exitCode: 0; lines: string[] };

export interface TargetInput extends WorkdirInput {
  /** Agent name/alias (in the workspace) or container name. */
  target: string;
}

export interface ListSandboxesInput {
  running?: boolean | undefined;
}

export interface StopSandboxesInput extends WorkdirInput {
  targets?: string[] | undefined;
  all?: boolean | undefined;
  force?: boolean | undefined;
}

export interface ExecInput extends TargetInput {
  command: string[];
  /** Default: when the given stdin is a terminal. */
  tty?: boolean | undefined;
}

export interface LogsInput extends TargetInput {
  follow?: boolean | undefined;
  tail?: number | undefined;
}

export type ApprovalAnswerWord = 'once' | 'always' | 'deny';

export interface AnswerApprovalsInput extends WorkdirInput {
  answer: ApprovalAnswerWord;
  ids?: string[] | undefined;
  /** Every pending approval of the workspace. */
  all?: boolean | undefined;
}

export interface ListApprovalsInput {
  /** Only this workspace (default: all). */
  workdir?: string | undefined;
}

export interface EgressRulesInput extends WorkdirInput {
  action: 'allow' | 'deny';
  rules: string[];
}

export interface EgressLogInput extends WorkdirInput {
  follow?: boolean | undefined;
  denied?: boolean | undefined;
  /** How many past entries (0: all; default 50). */
  lines?: number | undefined;
}

export interface ServiceInput extends WorkdirInput {
  name: string;
}

export interface ServiceLogsInput extends ServiceInput {
  follow?: boolean | undefined;
  tail?: number | undefined;
}

export interface TranscriptInput {
  /** Session id (a unique prefix is enough). */
  id: string;
}

export interface PlayTranscriptInput extends TranscriptInput {
  /** Playback speed; 0 prints it all at once. */
  speed?: number | undefined;
}

export interface RemoveTranscriptsInput {
  ids?: string[] | undefined;
  all?: boolean | undefined;
}

/** The `corral run` options a task takes too (not: mode, args, detach, name, dry run, join). */
export type TaskStartOptions = Omit<
  StartSandboxInput,
  'agent' | 'mode' | 'args' | 'detach' | 'name' | 'dryRun' | 'join' | 'prompt' | 'resumeSession' | 'workdir'
>;

export interface CreateTaskInput extends TaskStartOptions {
  agent: string;
  /** What to do; default for an issue/PR URL: "Fix <url>" / "Review <url>" with its title and body. */
  prompt?: string | undefined;
  /** The user's folder to work in (default: the context's cwd). */
  workdir?: string | undefined;
  /** A git URL (`URL#branch` for a branch) cloned on the host into a fresh workspace. */
  repo?: string | undefined;
  /** A GitHub issue or pull request URL: its repository is cloned. */
  url?: string | undefined;
}

export interface TaskIdInput {
  /** A task id or a unique prefix of one. */
  id: string;
}

export interface TaskLogsInput extends TaskIdInput {
  /** Keep reading until the task ends. */
  follow?: boolean | undefined;
}

export interface RemoveTasksInput {
  ids?: string[] | undefined;
  /** Every finished task. */
  all?: boolean | undefined;
}

export interface WorktreeInput extends WorkdirInput {
  name: string;
}

export interface ResumeInput extends TaskStartOptions {
  agent: string;
  /** A prefix of the conversation id (default: the agent's latest, in this workspace if any). */
  id?: string | undefined;
  workdir?: string | undefined;
  /** Continue headless with this prompt instead of interactively. */
  prompt?: string | undefined;
}

export type { ChatRefInput, ChatStartOptions, NewChatInput, SendChatInput } from './chat-types.js';

/** An agent's profile (`corral auth …`). */
export interface AuthProfileInput {
  /** Agent name or alias. */
  agent: string;
  /** Default: `default`. */
  profile?: string | undefined;
}

export interface AuthImportInput extends AuthProfileInput {
  /** The login file to copy (default: the agent's own, in the user's home folder). */
  from?: string | undefined;
}

export interface SetupTokenInput extends AuthProfileInput {
  /** Read a token the user has from the caller's stdin instead of running the agent's flow. */
  stdin?: boolean | undefined;
  /** Forget the stored token. */
  remove?: boolean | undefined;
}

export interface AuthDoctorInput extends AuthProfileInput, WorkdirInput {
  /** Keys as `corral run -e` would pass them (`KEY[=VALUE]`). */
  env?: string[] | undefined;
  envFile?: string[] | undefined;
}

export interface BuildImagesInput {
  /** Agent names or aliases (or `all`). */
  agents?: string[] | undefined;
  all?: boolean | undefined;
  /** Rebuild the agent layer even if it exists. */
  rebuild?: boolean | undefined;
  /** Build without the engine cache. */
  noCache?: boolean | undefined;
  /** The CLI version to build (`latest`: the newest published); default: config, then pin. */
  version?: string | undefined;
  /** Pin the version built for later runs. */
  pin?: boolean | undefined;
}

export interface UpdateImagesInput {
  /** Default: every agent that has an image. */
  agents?: string[] | undefined;
}

export interface PruneImagesInput {
  /** Every corral image, not only those no current recipe uses. */
  all?: boolean | undefined;
}

export interface InitProjectInput extends WorkdirInput {
  /** Set default_agent in the starter. */
  agent?: string | undefined;
  /** Overwrite files that exist. */
  force?: boolean | undefined;
}

export interface ScanInput extends WorkdirInput {
  /** Stop after this many milliseconds (default 3000). */
  budgetMs?: number | undefined;
  /** Allow these files' findings as they are now (workspace-relative or absolute paths). */
  allow?: string[] | undefined;
  /** Mask these files: sandboxes see an empty read-only file in their place. */
  mask?: string[] | undefined;
}

export interface MasksInput extends WorkdirInput {
  /** Folders relative to the workspace. */
  dirs: string[];
}

export interface CleanWorkspaceInput extends WorkdirInput {
  /** Also every workspace's agent homes and old shared home volumes. */
  all?: boolean | undefined;
}

export interface AllowedPatternInput extends WorkdirInput {
  /** An exact command, or a prefix pattern ending in `*`. */
  pattern: string;
}
