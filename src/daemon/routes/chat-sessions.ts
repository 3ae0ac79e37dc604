/**
 * Multi-agent sessions: list, make, show (with history), send a message, forget. A send returns as
 * soon as the message and the pending answers are recorded; each answer comes as a
 * `session.message` event (and is in the session's history).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { DaemonContext } from '../app.js';

const ChatAgent = z.object({
  agent: z.string(),
  workspace: z.string(),
  worktree: z.string().nullable(),
  branch: z.string().nullable(),
  conversation: z.string().nullable(),
});

const ChatSession = z
  .object({
    id: z.string(),
    name: z.string(),
    workspace: z.string(),
    worktree: z.boolean(),
    created: z.string(),
    agents: z.array(ChatAgent),
    turns: z.number(),
  })
  .openapi('Session');

const ChatMessage = z
  .object({
    id: z.number(),
    turn: z.number(),
    author: z.string(),
    text: z.string(),
    state: z.enum(['sent', 'pending', 'done', 'failed', 'lost']),
    exitCode: z.number().nullable(),
    created: z.string(),
    ended: z.string().nullable(),
  })
  .openapi('SessionMessage');

const ChatDetail = ChatSession.extend({ messages: z.array(ChatMessage) }).openapi('SessionDetail');

const NewChatBody = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/),
    agents: z.array(z.string().min(1).max(64)).min(1).max(16),
    workdir: z.string().startsWith('/', 'an absolute path').optional(),
    worktree: z.boolean().optional(),
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
  .openapi('NewSession');

const SendBody = z
  .object({ message: z.string().min(1).max(100_000) })
  .strict()
  .openapi('SessionSend');

const SessionParam = z.object({ session: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/) });

const ok = <T extends z.ZodType>(schema: T, description: string, status: 200 | 201 | 202 = 200) => ({
  [status]: { content: { 'application/json': { schema } }, description },
});

export function chatSessionRoutes(app: OpenAPIHono, d: DaemonContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sessions',
      responses: ok(z.array(ChatSession), 'every multi-agent session, newest first'),
    }),
    async (c) => c.json(await d.uc.chats(), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sessions',
      request: { body: { content: { 'application/json': { schema: NewChatBody } }, required: true } },
      responses: ok(ChatSession, 'the session', 201),
    }),
    async (c) => c.json(await d.uc.newChat(c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sessions/{session}',
      request: { params: SessionParam },
      responses: ok(ChatDetail, 'the session (by name or id prefix) with its history'),
    }),
    async (c) => c.json(await d.uc.chat(c.req.valid('param').session), 200),
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/sessions/{session}',
      request: { params: SessionParam },
      responses: ok(ChatSession, 'the session, forgotten'),
    }),
    async (c) => c.json(await d.uc.removeChat(c.req.valid('param').session), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sessions/{session}/messages',
      request: {
        params: SessionParam,
        body: { content: { 'application/json': { schema: SendBody } }, required: true },
      },
      responses: ok(
        z.object({
          session: ChatSession,
          turn: z.number(),
          message: ChatMessage,
          pending: z.array(ChatMessage),
        }),
        'the message is recorded and the agents are asked; answers come as session.message events',
        202,
      ),
    }),
    async (c) => {
      const sent = await d.uc.sendChat(c.req.valid('param').session, c.req.valid('json').message, (m, s) =>
        d.bus.publish('session.message', { session: s.id, name: s.name, message: m }),
      );
      for (const m of [sent.message, ...sent.pending])
        d.bus.publish('session.message', { session: sent.session.id, name: sent.session.name, message: m });
      return c.json(sent, 202);
    },
  );
}
