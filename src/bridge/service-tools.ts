/**
 * The agent's service tools: start a container (postgres, redis, …) the sandbox reaches by name,
 * stop it, list them, read their logs. Starting one needs the user's yes, asked by image, name and
 * env key names; env values are passed to the container and never shown or logged.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ServiceController, ServiceInfo } from '../services/types.js';
import { decide, SERVICE_PREFIX } from './approvals.js';
import { guarded, result, type ToolContext } from './tools.js';

export type ServiceToolContext = Pick<
  ToolContext,
  'workspace' | 'session' | 'approve' | 'allowlistPath' | 'approvalTimeoutMs'
> & { services: ServiceController };

const view = (s: ServiceInfo) => ({
  name: s.name,
  image: s.image,
  status: s.state,
  ports: s.ports,
  reach_at: s.ports.map((p) => `${s.name}:${p}`),
  env_keys: s.envKeys,
});

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'a short lowercase name like postgres')
  .describe('Short name; the sandbox reaches the service at this host name');

export function registerServiceTools(server: McpServer, ctx: ServiceToolContext): void {
  server.registerTool(
    'start_service',
    {
      description:
        'Start a service container (a database, cache or broker, e.g. postgres:16 or redis:7) for this workspace, ' +
        'after the user approves its image. This sandbox then reaches it by name on its standard port ' +
        '(e.g. postgres:5432). It gets a fresh data volume and is removed when this session ends.',
      inputSchema: {
        image: z.string().min(1).max(255).describe('Image reference, e.g. postgres:16'),
        name,
        env: z
          .record(z.string().max(128), z.string().max(32_768))
          .refine((e) => Object.keys(e).length <= 64, 'at most 64 variables')
          .optional()
          .describe('Environment variables for the service'),
        ports: z
          .array(z.number().int().min(1).max(65535))
          .max(16)
          .optional()
          .describe("Ports it listens on (default: the image's exposed ports)"),
      },
    },
    ({ image, name, env = {}, ports }, extra) =>
      guarded(async () => {
        const verdict = await decide(`${SERVICE_PREFIX}${image}`, {
          workspace: ctx.workspace,
          session: ctx.session,
          approve: ctx.approve,
          allowlistPath: ctx.allowlistPath,
          timeoutMs: ctx.approvalTimeoutMs,
          signal: extra.signal,
          service: { image, name, envKeys: Object.keys(env).sort() },
        });
        if (!verdict.run) return result({ status: 'refused', reason: verdict.reason }, true);
        const s = await ctx.services.start({ name, image, env, ...(ports ? { ports } : {}) });
        return result({ ...view(s), started: true });
      }),
  );

  server.registerTool(
    'stop_service',
    {
      description: 'Stop a service of this workspace and delete its container and data volume.',
      inputSchema: { name },
    },
    ({ name }) =>
      guarded(async () => {
        await ctx.services.stop(name);
        return result({ status: 'stopped', name });
      }),
  );

  server.registerTool(
    'list_services',
    {
      description: "This workspace's services: name, image, status, and where this sandbox reaches each.",
      inputSchema: {},
    },
    () => guarded(async () => result({ services: (await ctx.services.list()).map(view) })),
  );

  server.registerTool(
    'service_logs',
    {
      description: "The last lines of a service's output (stdout and stderr).",
      inputSchema: {
        name,
        lines: z.number().int().min(1).max(1000).optional().describe('How many lines (default 50)'),
      },
    },
    ({ name, lines }) =>
      guarded(async () => result({ name, logs: await ctx.services.logs(name, lines ?? 50) })),
  );
}
