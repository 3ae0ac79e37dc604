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
}

export type StartSandboxResult =
  /** An attached or headless run ended (or a shell joined a running sandbox and its command ended). */
  | { kind: 'exited'; exitCode: number }
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
