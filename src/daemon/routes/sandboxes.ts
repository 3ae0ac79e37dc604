/** Sandboxes: list, start (detached, with a TTY), stop, logs. The terminal is a WebSocket (terminal.ts). */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { SandboxListing } from '../../core/index.js';
import type { DaemonContext } from '../app.js';
import { IdParam, Sandbox, StartBody, Started, TailQuery, Text } from '../schemas.js';

const ok = <T extends z.ZodType>(schema: T, description: string, status: 200 | 201 = 200) => ({
  [status]: { content: { 'application/json': { schema } }, description },
});

export function sandboxView(s: SandboxListing): z.infer<typeof Sandbox> {
  return {
    id: s.id,
    name: s.name,
    agent: s.agent,
    workspace: s.workspacePath,
    workspaceId: s.workspace,
    profile: s.profile,
    session: s.session,
    state: s.state,
    status: s.status,
    created: new Date(s.created * 1000).toISOString(),
    detached: s.detached,
    notification: s.lastNotification ? `${s.lastNotification.title}: ${s.lastNotification.body}` : null,
  };
}

export function sandboxRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({ method: 'get', path: '/api/sandboxes', responses: ok(z.array(Sandbox), 'every sandbox') }),
    async (c) =>
      c.json(
        (await d.sandboxes.get()).map((s) => sandboxView(s)),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sandboxes',
      request: { body: { content: { 'application/json': { schema: StartBody } }, required: true } },
      responses: ok(Started, 'started in the background, with a TTY', 201),
    }),
    async (c) => {
      const started = await d.uc.start(c.req.valid('json'));
      d.sandboxes.invalidate();
      return c.json(started, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sandboxes/{id}/stop',
      request: { params: IdParam },
      responses: ok(z.object({ stopped: z.boolean() }), 'stopped'),
    }),
    async (c) => {
      await d.uc.stop(c.req.valid('param').id);
      d.sandboxes.invalidate();
      return c.json({ stopped: true }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sandboxes/{id}/logs',
      request: { params: IdParam, query: TailQuery },
      responses: ok(Text, "the sandbox's output"),
    }),
    async (c) => c.json({ text: await d.uc.logs(c.req.valid('param').id, c.req.valid('query').tail) }, 200),
  );
}
