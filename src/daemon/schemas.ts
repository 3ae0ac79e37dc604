/** The daemon API's bodies and answers, as zod schemas: validation and the OpenAPI document in one. */
import { z } from '@hono/zod-openapi';

export const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }) })
  .openapi('Error');

export const Sandbox = z
  .object({
    id: z.string(),
    name: z.string(),
    agent: z.string(),
    workspace: z.string(),
    workspaceId: z.string(),
    profile: z.string(),
    session: z.string(),
    state: z.string(),
    status: z.string(),
    created: z.string(),
    detached: z.boolean(),
    notification: z.string().nullable(),
  })
  .openapi('Sandbox');

export const StartBody = z
  .object({
    agent: z.string().min(1).max(64),
    mode: z.enum(['agent', 'shell']).optional(),
    workdir: z.string().startsWith('/', 'an absolute path'),
    profile: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/)
      .optional(),
    network: z.enum(['gateway', 'open', 'none']).optional(),
    prompt: z.string().max(100_000).optional(),
    modelUrl: z.url().optional(),
    provider: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,63}$/, 'a provider name from `corral provider list`')
      .optional()
      .describe(
        'a named provider (`corral provider add`): its endpoint, and its key injected by the gateway',
      ),
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("the provider's model (default: its default model)"),
    yolo: z.boolean().optional(),
    allow: z.array(z.string().max(500)).max(100).optional(),
    allowHost: z.array(z.number().int().min(1).max(65535)).max(20).optional(),
    /** Answer only when the sandbox has exited, with its exit code (a headless task from a script). */
    wait: z.boolean().optional(),
  })
  .strict()
  .openapi('StartSandbox');

export const Started = z
  .object({ id: z.string(), name: z.string(), exitCode: z.number().optional() })
  .openapi('Started');

export const Approval = z
  .object({
    id: z.string(),
    workspace: z.string(),
    session: z.string(),
    kind: z.string(),
    summary: z.string(),
    details: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    created: z.string(),
    expires: z.string(),
  })
  .openapi('Approval');

export const AnswerBody = z
  .object({ answer: z.enum(['allow', 'once', 'always', 'deny']), workspace: z.string().optional() })
  .strict()
  .openapi('ApprovalAnswer');

export const WorkspaceQuery = z.object({ workspace: z.string().startsWith('/', 'an absolute path') });

export const RuleBody = z
  .object({
    workspace: z.string().startsWith('/', 'an absolute path'),
    action: z.enum(['allow', 'deny']),
    rule: z.string().min(1).max(500),
  })
  .strict()
  .openapi('EgressRule');

export const AuditEntry = z
  .object({
    time: z.string(),
    method: z.string(),
    host: z.string(),
    port: z.number(),
    path: z.string().optional(),
    status: z.number(),
    decision: z.string(),
    rule: z.string().optional(),
    reason: z.string().optional(),
  })
  .passthrough()
  .openapi('AuditEntry');

export const Text = z.object({ text: z.string() }).openapi('Text');
export const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/) });
export const TailQuery = z.object({ tail: z.coerce.number().int().min(1).max(10_000).default(200) });

export const Task = z
  .object({
    id: z.string(),
    agent: z.string(),
    prompt: z.string(),
    workspace: z.string(),
    source: z.string(),
    worktree: z.string().nullable(),
    branch: z.string().nullable(),
    state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost']),
    exitCode: z.number().nullable(),
    created: z.string(),
    started: z.string().nullable(),
    ended: z.string().nullable(),
    diffStat: z.string().nullable(),
    sessionId: z.string().nullable(),
    container: z.string(),
    error: z.string().nullable(),
  })
  .openapi('Task');

export const CreateTaskBody = z
  .object({
    agent: z.string().min(1).max(64),
    prompt: z.string().min(1).max(100_000).optional(),
    workdir: z.string().startsWith('/', 'an absolute path').optional(),
    repo: z.string().min(1).max(2000).optional(),
    url: z.string().url().max(2000).optional(),
    worktree: z.union([z.string().regex(/^[a-z0-9][a-z0-9._-]{0,47}$/), z.boolean()]).optional(),
    profile: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/)
      .optional(),
    network: z.enum(['gateway', 'open', 'none']).optional(),
    modelUrl: z.url().optional(),
    yolo: z.boolean().optional(),
    allow: z.array(z.string().max(500)).max(100).optional(),
    allowHost: z.array(z.number().int().min(1).max(65535)).max(20).optional(),
  })
  .strict()
  .openapi('CreateTask');

export const TaskIdParam = z.object({ id: z.string().regex(/^[0-9a-f]{1,16}$/) });
