/** Tasks: list, create (a background headless agent), status, log, cancel. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { DaemonContext } from '../app.js';
import { CreateTaskBody, Task, TaskIdParam, Text } from '../schemas.js';

const ok = <T extends z.ZodType>(schema: T, description: string, status: 200 | 201 = 200) => ({
  [status]: { content: { 'application/json': { schema } }, description },
});

export function taskRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks',
      responses: ok(z.array(Task), 'every task, newest first'),
    }),
    async (c) => c.json(await d.uc.tasks(), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks',
      request: { body: { content: { 'application/json': { schema: CreateTaskBody } }, required: true } },
      responses: ok(z.object({ id: z.string() }), 'the task started in the background', 201),
    }),
    async (c) => c.json(await d.uc.createTask(c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{id}',
      request: { params: TaskIdParam },
      responses: ok(Task, 'the task'),
    }),
    async (c) => c.json(await d.uc.task(c.req.valid('param').id), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{id}/log',
      request: { params: TaskIdParam },
      responses: ok(Text, "the task's output so far"),
    }),
    async (c) => c.json({ text: (await d.uc.taskLog(c.req.valid('param').id)).text }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{id}/cancel',
      request: { params: TaskIdParam },
      responses: ok(Task, 'the task, cancelled (or finished already)'),
    }),
    async (c) => c.json(await d.uc.cancelTask(c.req.valid('param').id), 200),
  );
}
