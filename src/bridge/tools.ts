/**
 * The MCP tools the sandboxed agent sees. Results are JSON text so any agent can read them and tests
 * can parse them; refusals are tool errors (isError) with the reason, never protocol errors, so the
 * agent gets a sentence it can act on.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isCorralError } from '../errors.js';
import {
  type ApprovalAnswer,
  type ApprovalRequest,
  decide,
  listAllowed,
  normalizeCommand,
  validateCommand,
} from './approvals.js';
import type { CommandStore } from './commands.js';
import { listOnDisk } from './history.js';
import { MAX_BODY, MAX_TITLE, type Notifier, sanitizeText } from './notify.js';

export interface ToolContext {
  workspace: string;
  session: string;
  store: CommandStore;
  approve: (req: ApprovalRequest) => Promise<ApprovalAnswer>;
  allowlistPath: string;
  approvalTimeoutMs: number;
  commandTimeoutMs?: number;
  inlineWaitMs: number;
  notify: Notifier;
}

/** Inline output is capped; the files hold everything. */
const INLINE_BYTES = 16 * 1024;

export const result = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
});

function capped(text: string): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text) <= INLINE_BYTES) return { text, truncated: false };
  return { text: Buffer.from(text).subarray(-INLINE_BYTES).toString('utf8'), truncated: true };
}

/** User-facing errors become tool errors; anything else is a bug and stays vague to the agent. */
export async function guarded(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (e) {
    const message = isCorralError(e) ? `${e.message}${e.hint ? ` ${e.hint}` : ''}` : 'internal error';
    return result({ status: 'error', message }, true);
  }
}

export function registerTools(server: McpServer, ctx: ToolContext): void {
  const id = z.string().regex(/^[0-9a-f]{8}$/, 'a command id from run_command');

  server.registerTool(
    'run_command',
    {
      description:
        'Run a command on the host (not in this sandbox), in the workspace folder, after the user approves it. ' +
        'Commands the user allowed by a prefix run as plain words: no shell, nothing expanded ($VAR, *, ~). ' +
        'Host commands get a minimal environment and may run confined (no home folder, no network). ' +
        'Waits up to 5 s: returns exit code and output if it finished, else a command id for command_status. ' +
        'Full output is written to the files in output_dir (relative to the workspace).',
      inputSchema: {
        command: z.string().describe('The command line; /bin/sh only where the user approved shell syntax'),
        timeout_seconds: z
          .number()
          .int()
          .positive()
          .max(86_400)
          .optional()
          .describe('Stop it after this long'),
      },
    },
    ({ command: raw, timeout_seconds }, extra) =>
      guarded(async () => {
        const command = normalizeCommand(raw);
        validateCommand(command);
        const verdict = await decide(command, {
          workspace: ctx.workspace,
          session: ctx.session,
          approve: ctx.approve,
          allowlistPath: ctx.allowlistPath,
          timeoutMs: ctx.approvalTimeoutMs,
          signal: extra.signal,
        });
        if (!verdict.run) return result({ status: 'refused', reason: verdict.reason }, true);
        const timeoutMs = timeout_seconds ? timeout_seconds * 1000 : ctx.commandTimeoutMs;
        const info = await ctx.store.start(command, { argv: verdict.argv, timeoutMs });
        await ctx.store.wait(info.id, ctx.inlineWaitMs);
        const status = await ctx.store.status(info.id);
        if (status.state === 'running') {
          return result({
            status: 'running',
            id: info.id,
            output_dir: info.dir,
            hint: 'Poll with command_status; stop with stop_command.',
          });
        }
        const out = ctx.store.output(info.id);
        const stdout = capped(out.stdout);
        const stderr = capped(out.stderr);
        return result({
          status: status.state,
          id: info.id,
          exit_code: status.exitCode ?? null,
          stdout: stdout.text,
          stderr: stderr.text,
          ...(stdout.truncated || stderr.truncated ? { truncated: true } : {}),
          output_dir: info.dir,
        });
      }),
  );

  server.registerTool(
    'command_status',
    {
      description:
        'Status of a command started by run_command: running, finished or killed, the exit code, and the last 10 lines of stdout and stderr.',
      inputSchema: { id },
    },
    ({ id }) =>
      guarded(async () => {
        const s = await ctx.store.status(id, 10);
        return result({
          id: s.id,
          status: s.state,
          exit_code: s.exitCode ?? null,
          stdout_tail: s.stdoutTail,
          stderr_tail: s.stderrTail,
          output_dir: s.dir,
        });
      }),
  );

  server.registerTool(
    'stop_command',
    {
      description: 'Stop a running command and its children (SIGTERM, then SIGKILL after 5 s).',
      inputSchema: { id },
    },
    ({ id }) =>
      guarded(async () => {
        await ctx.store.stop(id);
        const s = await ctx.store.status(id, 10);
        return result({ id: s.id, status: s.state, exit_code: s.exitCode ?? null });
      }),
  );

  server.registerTool(
    'list_commands',
    {
      description:
        "List host commands of this session, or of every session in this workspace with scope 'workspace'.",
      inputSchema: { scope: z.enum(['session', 'workspace']).optional() },
    },
    ({ scope }) =>
      guarded(async () => {
        const own = ctx.store.list();
        const others = scope === 'workspace' ? await listOnDisk(ctx.workspace, ctx.session) : [];
        const rows = [...own, ...others].map((c) => ({
          id: c.id,
          session: c.session,
          status: c.state,
          exit_code: c.exitCode ?? null,
          command: c.command,
          output_dir: c.dir,
        }));
        return result({ commands: rows });
      }),
  );

  server.registerTool(
    'list_allowed_commands',
    {
      description:
        'Commands the user allowed to run without asking in this workspace. A trailing * means any plain arguments ' +
        '(no ; && | redirection or substitution; nothing is expanded; arguments that change what runs, like ' +
        '--script-shell or -c, are refused). An entry asks again when the workspace files defining it change.',
      inputSchema: {},
    },
    () => guarded(async () => result({ allowed: await listAllowed(ctx.workspace, ctx.allowlistPath) })),
  );

  server.registerTool(
    'notify_user',
    {
      description:
        'Show the host user a desktop notification, e.g. when a long task is done or input is needed.',
      inputSchema: { title: z.string().max(1000), message: z.string().max(10_000) },
    },
    ({ title, message }) =>
      guarded(async () => {
        await ctx.notify(sanitizeText(title, MAX_TITLE), sanitizeText(message, MAX_BODY));
        return result({ status: 'sent' });
      }),
  );
}
