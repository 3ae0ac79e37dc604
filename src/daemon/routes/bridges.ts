/**
 * The door for CLI runs' host bridges (core/bridge-host.ts): a detached `corral run` with a daemon
 * running hands its bridge session here instead of starting a bridge process. Only on the Unix
 * socket (0600, this user's): a session names host paths and runs host commands, which the HTTP API
 * (reachable by a browser, or with --public by other machines) never takes.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { DaemonContext } from '../app.js';
import { errorJson } from '../app.js';

const SESSION = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a session id');
const NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const OpenBody = z.object({
  workspace: z.string().startsWith('/'),
  session: SESSION,
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
  socketPath: z.string().startsWith('/').max(103),
  agent: z.string().min(1).max(64),
  container: z.string().min(1).max(255),
  engine: z.string().min(1).max(1024),
  reconnect: z
    .object({
      kubernetes: z
        .object({
          context: z.string().max(253).optional(),
          namespace: z.string().max(63).optional(),
          storage_class: z.string().max(253).optional(),
          registry: z.string().max(1024).optional(),
          workspace: z.enum(['hostPath', 'upload', 'git']).optional(),
          node_folders: z.boolean().optional(),
          pull_secret: z.string().max(253).optional(),
          kubeconfig: z.string().max(4096).optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .optional(),
  relayed: z.boolean().optional(),
  approvalTimeoutMs: z.number().int().positive().max(86_400_000),
  notifyTty: z
    .string()
    .regex(/^\/dev\/(pts\/\d+|tty\w*)$/, 'a terminal device')
    .optional(),
  dataDir: z.string().startsWith('/'),
  hostCommands: z.object({
    env: z.array(NAME.refine((n) => !n.startsWith('CORRAL_'), "corral's own variables are never passed on")),
    confine: z.boolean().optional(),
    network: z.boolean(),
  }),
  hostEnv: z.record(NAME, z.string()),
});
const Done = z.object({ ok: z.boolean() });
const SessionParam = z.object({ session: SESSION });

/** A request that came over the Unix socket (no remote address), not over TCP. */
const overUnixSocket = (env: unknown): boolean => {
  const socket = (env as { incoming?: { socket?: { remoteAddress?: string } } })?.incoming?.socket;
  return Boolean(socket) && socket?.remoteAddress === undefined;
};

const refused = 'Bridge sessions are taken on the daemon’s Unix socket only.';

export function bridgeRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/bridges',
      request: { body: { content: { 'application/json': { schema: OpenBody } }, required: true } },
      responses: { 200: { content: { 'application/json': { schema: Done } }, description: 'listening' } },
    }),
    async (c) => {
      if (!overUnixSocket(c.env)) return errorJson(c, 403, 'FORBIDDEN', refused) as never;
      const body = c.req.valid('json');
      const { notifyTty, hostCommands, ...rest } = body;
      await d.uc.bridges.open({
        ...rest,
        ...(notifyTty ? { notifyTty } : {}),
        hostCommands: {
          env: hostCommands.env,
          network: hostCommands.network,
          ...(hostCommands.confine !== undefined ? { confine: hostCommands.confine } : {}),
        },
      });
      return c.json({ ok: true }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/bridges/{session}/watch',
      request: {
        params: SessionParam,
        body: {
          content: { 'application/json': { schema: z.object({ containerId: z.string().min(1).max(255) }) } },
          required: true,
        },
      },
      responses: { 200: { content: { 'application/json': { schema: Done } }, description: 'watching' } },
    }),
    async (c) => {
      if (!overUnixSocket(c.env)) return errorJson(c, 403, 'FORBIDDEN', refused) as never;
      await d.uc.bridges.watch(c.req.valid('param').session, c.req.valid('json').containerId);
      return c.json({ ok: true }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/bridges/{session}',
      request: { params: SessionParam },
      responses: { 200: { content: { 'application/json': { schema: Done } }, description: 'ended' } },
    }),
    async (c) => {
      if (!overUnixSocket(c.env)) return errorJson(c, 403, 'FORBIDDEN', refused) as never;
      await d.uc.bridges.abort(c.req.valid('param').session);
      return c.json({ ok: true }, 200);
    },
  );
}
