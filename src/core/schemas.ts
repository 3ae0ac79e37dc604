/**
 * zod schemas of the core's inputs, for edges that take untrusted input (the daemon's HTTP API builds
 * its routes and OpenAPI document from these). The CLI does not import this module: commander has
 * checked its flags already, and zod costs start time. The `Same` checks below fail to compile when
 * a schema and its type in ./types.ts drift apart.
 */
import { z } from 'zod';
import type * as T from './types.js';

const workdir = z.string().min(1).optional().describe('workspace folder (default: the daemon/CLI cwd)');
const strings = z.array(z.string());

export const NetworkMode = z.enum(['gateway', 'open', 'none']);

export const StartSandboxInput = z
  .object({
    agent: z.string().min(1).optional().describe('agent name or alias; default: config default_agent'),
    workdir,
    mode: z.enum(['agent', 'shell']).optional(),
    args: strings.optional(),
    name: z.string().min(1).optional(),
    env: strings.optional().describe('KEY[=VALUE]; KEY alone copies the host value'),
    envFile: strings.optional(),
    secretEnv: strings
      .optional()
      .describe('KEY or KEY@host[,host]: the gateway injects the value on requests to those hosts only'),
    mounts: strings.optional().describe('HOST[:SANDBOX][:rw]'),
    allowSensitiveMounts: z.boolean().optional(),
    isolation: z.enum(['runc', 'gvisor']).optional(),
    ports: strings.optional().describe('[HOST:]SANDBOX, on 127.0.0.1 unless publicPorts'),
    publicPorts: z.boolean().optional(),
    profile: z.string().min(1).optional(),
    rm: z.boolean().optional(),
    detach: z.boolean().optional(),
    pull: z.boolean().optional(),
    rebuild: z.boolean().optional(),
    noCache: z.boolean().optional(),
    modelUrl: z.string().url().optional(),
    modelKey: z.string().optional(),
    provider: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .optional(),
    model: z.string().min(1).optional(),
    prompt: z.string().optional(),
    acp: z.boolean().optional(),
    resume: z.boolean().optional(),
    yolo: z.boolean().optional(),
    join: z.boolean().optional(),
    dryRun: z.boolean().optional(),
    record: z.boolean().optional(),
    hostSettings: z.boolean().optional(),
    network: NetworkMode.optional(),
    allow: strings.optional(),
    deny: strings.optional(),
    allowHost: z.array(z.number().int().min(1).max(65535)).optional(),
    logBodies: z.boolean().optional(),
    credentialCheck: z.boolean().optional(),
    worktree: z.union([z.string().min(1), z.boolean()]).optional(),
    resumeSession: z.string().min(1).optional(),
  })
  .strict();

export const TargetInput = z.object({ target: z.string().min(1), workdir }).strict();
export const ListSandboxesInput = z.object({ running: z.boolean().optional() }).strict();
export const StopSandboxesInput = z
  .object({
    targets: strings.optional(),
    all: z.boolean().optional(),
    force: z.boolean().optional(),
    workdir,
  })
  .strict();
export const ExecInput = z
  .object({
    target: z.string().min(1),
    workdir,
    command: z.array(z.string()).min(1),
    tty: z.boolean().optional(),
  })
  .strict();
export const LogsInput = z
  .object({
    target: z.string().min(1),
    workdir,
    follow: z.boolean().optional(),
    tail: z.number().int().min(0).optional(),
  })
  .strict();
export const ApprovalAnswerWord = z.enum(['once', 'always', 'deny']);
export const ListApprovalsInput = z.object({ workdir }).strict();
export const AnswerApprovalsInput = z
  .object({ answer: ApprovalAnswerWord, ids: strings.optional(), all: z.boolean().optional(), workdir })
  .strict();
export const WorkdirInput = z.object({ workdir }).strict();
export const EgressRulesInput = z
  .object({ action: z.enum(['allow', 'deny']), rules: z.array(z.string().min(1)).min(1), workdir })
  .strict();
export const EgressLogInput = z
  .object({
    workdir,
    follow: z.boolean().optional(),
    denied: z.boolean().optional(),
    lines: z.number().int().min(0).optional(),
  })
  .strict();
export const ServiceInput = z.object({ name: z.string().min(1), workdir }).strict();
export const ServiceLogsInput = z
  .object({
    name: z.string().min(1),
    workdir,
    follow: z.boolean().optional(),
    tail: z.number().int().min(1).optional(),
  })
  .strict();
export const TranscriptInput = z.object({ id: z.string().min(1) }).strict();
export const PlayTranscriptInput = z
  .object({ id: z.string().min(1), speed: z.number().min(0).optional() })
  .strict();
export const RemoveTranscriptsInput = z
  .object({ ids: strings.optional(), all: z.boolean().optional() })
  .strict();

export const AuthProfileInput = z
  .object({ agent: z.string().min(1), profile: z.string().min(1).optional() })
  .strict();
export const AuthDoctorInput = z
  .object({
    agent: z.string().min(1),
    profile: z.string().min(1).optional(),
    workdir,
    env: strings.optional().describe('KEY[=VALUE], as `corral run -e`'),
    envFile: strings.optional(),
  })
  .strict();
export const BuildImagesInput = z
  .object({
    agents: strings.optional(),
    all: z.boolean().optional(),
    rebuild: z.boolean().optional(),
    noCache: z.boolean().optional(),
    version: z.string().min(1).optional(),
    pin: z.boolean().optional(),
  })
  .strict();
export const UpdateImagesInput = z.object({ agents: strings.optional() }).strict();
export const PruneImagesInput = z.object({ all: z.boolean().optional() }).strict();
export const InitProjectInput = z
  .object({ workdir, agent: z.string().min(1).optional(), force: z.boolean().optional() })
  .strict();
export const ScanInput = z
  .object({
    workdir,
    budgetMs: z.number().int().min(1).optional(),
    allow: strings.optional(),
    mask: strings.optional(),
  })
  .strict();
export const MasksInput = z.object({ workdir, dirs: z.array(z.string().min(1)).min(1) }).strict();
export const CleanWorkspaceInput = z.object({ workdir, all: z.boolean().optional() }).strict();
export const AllowedPatternInput = z.object({ workdir, pattern: z.string().min(1) }).strict();

// Compile-time: each schema's output is exactly its type in ./types.ts (optional keys included).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Out<S extends z.ZodType> = z.output<S>;
type Strip<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
const same = <_ extends true>() => {};
same<Same<Strip<Out<typeof StartSandboxInput>>, Strip<T.StartSandboxInput>>>();
same<Same<Strip<Out<typeof TargetInput>>, Strip<T.TargetInput>>>();
same<Same<Strip<Out<typeof ListSandboxesInput>>, Strip<T.ListSandboxesInput>>>();
same<Same<Strip<Out<typeof StopSandboxesInput>>, Strip<T.StopSandboxesInput>>>();
same<Same<Strip<Out<typeof ExecInput>>, Strip<T.ExecInput>>>();
same<Same<Strip<Out<typeof LogsInput>>, Strip<T.LogsInput>>>();
same<Same<Strip<Out<typeof ListApprovalsInput>>, Strip<T.ListApprovalsInput>>>();
same<Same<Strip<Out<typeof AnswerApprovalsInput>>, Strip<T.AnswerApprovalsInput>>>();
same<Same<Strip<Out<typeof EgressRulesInput>>, Strip<T.EgressRulesInput>>>();
same<Same<Strip<Out<typeof EgressLogInput>>, Strip<T.EgressLogInput>>>();
same<Same<Strip<Out<typeof ServiceLogsInput>>, Strip<T.ServiceLogsInput>>>();
same<Same<Strip<Out<typeof PlayTranscriptInput>>, Strip<T.PlayTranscriptInput>>>();
same<Same<Strip<Out<typeof RemoveTranscriptsInput>>, Strip<T.RemoveTranscriptsInput>>>();
same<Same<Strip<Out<typeof AuthProfileInput>>, Strip<T.AuthProfileInput>>>();
same<Same<Strip<Out<typeof AuthDoctorInput>>, Strip<T.AuthDoctorInput>>>();
same<Same<Strip<Out<typeof BuildImagesInput>>, Strip<T.BuildImagesInput>>>();
same<Same<Strip<Out<typeof UpdateImagesInput>>, Strip<T.UpdateImagesInput>>>();
same<Same<Strip<Out<typeof PruneImagesInput>>, Strip<T.PruneImagesInput>>>();
same<Same<Strip<Out<typeof InitProjectInput>>, Strip<T.InitProjectInput>>>();
same<Same<Strip<Out<typeof ScanInput>>, Strip<T.ScanInput>>>();
same<Same<Strip<Out<typeof MasksInput>>, Strip<T.MasksInput>>>();
same<Same<Strip<Out<typeof CleanWorkspaceInput>>, Strip<T.CleanWorkspaceInput>>>();
same<Same<Strip<Out<typeof AllowedPatternInput>>, Strip<T.AllowedPatternInput>>>();
