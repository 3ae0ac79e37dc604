/** The daemon itself, the agents, workspaces and transcripts. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { DaemonContext } from '../app.js';
import { IdParam } from '../schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { content: { 'application/json': { schema } }, description },
});

const Version = z
  .object({
    version: z.string(),
    build: z.string(),
    pid: z.number(),
    attached: z.number(),
    url: z.string().optional(),
  })
  .openapi('Version');

export function metaRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({ method: 'get', path: '/api/version', responses: json(Version, 'this daemon') }),
    (c) => {
      const url = d.url();
      return c.json(
        {
          version: d.version,
          build: d.build,
          pid: process.pid,
          attached: d.attached(),
          ...(url ? { url } : {}),
        },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents',
      responses: json(
        z.array(z.object({ name: z.string(), displayName: z.string(), aliases: z.array(z.string()) })),
        'the agents',
      ),
    }),
    (c) => c.json(d.uc.agents(), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/providers',
      responses: json(
        z.array(
          z.object({
            name: z.string(),
            kind: z.string(),
            models: z.array(z.string()),
            defaultModel: z.string().optional(),
            agents: z.array(z.string()),
          }),
        ),
        'the model providers (`corral provider add`), without their keys',
      ),
    }),
    async (c) => c.json(await d.uc.providers(), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workspaces',
      responses: json(
        z.array(z.object({ path: z.string(), id: z.string(), sandboxes: z.number() })),
        'workspaces with sandboxes',
      ),
    }),
    async (c) => {
      const byId = new Map<string, { path: string; id: string; sandboxes: number }>();
      for (const s of await d.sandboxes.get()) {
        const w = byId.get(s.workspace) ?? { path: s.workspacePath, id: s.workspace, sandboxes: 0 };
        w.sandboxes++;
        byId.set(s.workspace, w);
      }
      return c.json([...byId.values()], 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/transcripts',
      responses: json(
        z.array(
          z.object({
            id: z.string(),
            agent: z.string(),
            workspace: z.string(),
            started: z.string(),
            seconds: z.number(),
            bytes: z.number(),
          }),
        ),
        'recorded terminal sessions',
      ),
    }),
    async (c) =>
      c.json(
        (await d.uc.transcripts()).map((s) => ({
          id: s.id,
          agent: s.agent,
          workspace: s.workspace,
          started: s.started,
          seconds: s.seconds,
          bytes: s.bytes,
        })),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/transcripts/{id}',
      request: { params: IdParam },
      responses: {
        200: { content: { 'application/x-asciicast': { schema: z.string() } }, description: 'asciicast v2' },
      },
    }),
    async (c) => {
      const text = await d.uc.transcript(c.req.valid('param').id);
      return c.body(text, 200, { 'content-type': 'application/x-asciicast' });
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/shutdown',
      responses: json(z.object({ stopping: z.boolean() }), 'bye'),
    }),
    (c) => {
      setTimeout(() => d.shutdown(), 20);
      return c.json({ stopping: true }, 200);
    },
  );
}
