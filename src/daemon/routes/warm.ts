/**
 * The warm pool's door for CLI runs (core/warm-pool.ts): a run with a daemon running hands its
 * resolved spec over and gets a warm sandbox that fits, or none. Only on the Unix socket (0600,
 * this user's): a spec names host paths to mount, which the HTTP API never takes.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { SandboxSpec } from '../../core/index.js';
import type { DaemonContext } from '../app.js';

const TakeBody = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
  spec: z
    .object({
      agent: z.string().min(1),
      profile: z.string().min(1),
      workspace: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/), path: z.string().startsWith('/') }),
    })
    .passthrough(),
});
const Taken = z.object({
  taken: z
    .object({
      id: z.string(),
      session: z.string(),
      key: z.string(),
      launchDir: z.string(),
      placeholders: z.record(z.string(), z.string()),
    })
    .nullable(),
});

/** A request that came over the Unix socket (no remote address), not over TCP. */
const overUnixSocket = (env: unknown): boolean => {
  const socket = (env as { incoming?: { socket?: { remoteAddress?: string } } })?.incoming?.socket;
  return Boolean(socket) && socket?.remoteAddress === undefined;
};

export function warmRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/warm/take',
      request: { body: { content: { 'application/json': { schema: TakeBody } }, required: true } },
      responses: {
        200: { content: { 'application/json': { schema: Taken } }, description: 'a warm sandbox, or null' },
      },
    }),
    async (c) => {
      if (!overUnixSocket(c.env)) return c.json({ taken: null }, 200);
      const { spec, key } = c.req.valid('json');
      const taken = await d.uc.warm.take(spec as unknown as SandboxSpec, key);
      return c.json({ taken: taken ?? null }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/warm/drop',
      request: {
        body: {
          content: {
            'application/json': { schema: z.object({ workspace: z.string().regex(/^[0-9a-f]{12}$/) }) },
          },
          required: true,
        },
      },
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ dropped: z.boolean() }) } },
          description: 'dropped',
        },
      },
    }),
    async (c) => {
      await d.uc.warm.drop(c.req.valid('json').workspace);
      return c.json({ dropped: true }, 200);
    },
  );
}
