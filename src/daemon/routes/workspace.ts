/** What belongs to a workspace: approvals waiting, egress rules and log, services. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { CorralError } from '../../errors.js';
import type { DaemonContext } from '../app.js';
import {
  AnswerBody,
  Approval,
  AuditEntry,
  IdParam,
  RuleBody,
  TailQuery,
  Text,
  WorkspaceQuery,
} from '../schemas.js';

const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { content: { 'application/json': { schema } }, description },
});

const LogQuery = WorkspaceQuery.extend({
  denied: z.enum(['0', '1', 'true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

const Service = z
  .object({
    name: z.string(),
    image: z.string(),
    state: z.string(),
    ports: z.array(z.number()),
    address: z.string(),
  })
  .openapi('Service');

export function workspaceRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/approvals',
      responses: ok(z.array(Approval), 'waiting approvals'),
    }),
    async (c) => c.json(await d.uc.approvals(), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/approvals/{id}',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: AnswerBody } }, required: true },
      },
      responses: ok(z.object({ ok: z.boolean() }), 'answered (409: already answered or gone)'),
    }),
    async (c) => {
      const { answer } = c.req.valid('json');
      const done = await d.uc.answer(c.req.valid('param').id, answer === 'allow' ? 'once' : answer);
      if (!done)
        throw new CorralError(
          'APPROVAL_GONE',
          'That request was already answered, timed out, or its agent left.',
        );
      return c.json({ ok: true }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/egress/rules',
      request: { query: WorkspaceQuery },
      responses: ok(
        z.object({ allow: z.array(z.string()), deny: z.array(z.string()) }),
        'rules added at run time',
      ),
    }),
    async (c) => {
      const r = await d.uc.egressRules(c.req.valid('query').workspace);
      return c.json({ allow: [...r.allow], deny: [...r.deny] }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/egress/rules',
      request: { body: { content: { 'application/json': { schema: RuleBody } }, required: true } },
      responses: ok(
        z.object({ rule: z.string(), applied: z.boolean() }),
        'added (applied live when a gateway runs)',
      ),
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await d.uc.addEgressRule(b.workspace, b.action, b.rule), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/egress/log',
      request: { query: LogQuery },
      responses: ok(z.array(AuditEntry), 'the audit log, oldest first'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const denied = q.denied === '1' || q.denied === 'true';
      return c.json(await d.uc.egressLog(q.workspace, { denied, limit: q.limit }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/services',
      request: { query: WorkspaceQuery },
      responses: ok(z.array(Service), "the workspace's services"),
    }),
    async (c) =>
      c.json(
        (await d.uc.services(c.req.valid('query').workspace)).map((s) => ({
          name: s.name,
          image: s.image,
          state: s.state,
          ports: s.ports,
          address: s.address,
        })),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/services/{id}/logs',
      request: { params: IdParam, query: WorkspaceQuery.merge(TailQuery) },
      responses: ok(Text, "a service's output"),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json({ text: await d.uc.serviceLogs(q.workspace, c.req.valid('param').id, q.tail) }, 200);
    },
  );
}
