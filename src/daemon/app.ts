/**
 * The daemon's HTTP app: auth first, then the API (zod-validated, documented at /api/openapi.json),
 * then the web UI's files. Every error leaves as `{"error":{code,message,hint}}`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isCorralError } from '../errors.js';
import { authorized, loginCookie } from './auth.js';
import type { EventBus } from './events.js';
import { bridgeRoutes } from './routes/bridges.js';
import { chatSessionRoutes } from './routes/chat-sessions.js';
import { metaRoutes } from './routes/meta.js';
import { sandboxRoutes } from './routes/sandboxes.js';
import { sshRoutes } from './routes/ssh.js';
import { taskRoutes } from './routes/tasks.js';
import { warmRoutes } from './routes/warm.js';
import { workspaceRoutes } from './routes/workspace.js';
import type { SandboxSnapshot } from './snapshot.js';
import { serveWeb } from './static.js';
import type { UseCases } from './use-cases.js';

export interface DaemonContext {
  uc: UseCases;
  /** Every sandbox, from a shared, briefly cached engine list. */
  sandboxes: SandboxSnapshot;
  bus: EventBus;
  token: string;
  version: string;
  build: string;
  /** The HTTP address, when the daemon listens on one. */
  url(): string | undefined;
  /** Terminal sessions attached through the daemon now. */
  attached(): number;
  shutdown(): void;
}

export type Api = OpenAPIHono;

const STATUS: Record<string, 400 | 404 | 409 | 503> = {
  BAD_INPUT: 400,
  CONFIG_INVALID: 400,
  AGENT_UNKNOWN: 400,
  WORKSPACE_INVALID: 400,
  SECRETS_FOUND: 409,
  APPROVAL_GONE: 409,
  MERGE_CONFLICT: 409,
  NOT_FOUND: 404,
  GIT_FAILED: 400,
  CONTAINER_NOT_FOUND: 404,
  IMAGE_NOT_FOUND: 404,
  ENGINE_UNREACHABLE: 503,
  ENGINE_NOT_FOUND: 503,
};

export function errorJson(c: Context, status: number, code: string, message: string, hint?: string) {
  return c.json({ error: { code, message, ...(hint ? { hint } : {}) } }, status as 400);
}

export function createApp(d: DaemonContext): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      return errorJson(c, 400, 'BAD_INPUT', `Invalid request: ${issues.join('; ')}`);
    },
  });
  app.onError((e, c) => {
    if (isCorralError(e)) return errorJson(c, STATUS[e.code] ?? 500, e.code, e.message, e.hint);
    if (e instanceof HTTPException && e.status < 500) return errorJson(c, e.status, 'BAD_INPUT', e.message);
    if (e instanceof SyntaxError) return errorJson(c, 400, 'BAD_INPUT', `Invalid JSON body: ${e.message}`);
    process.stderr.write(`${new Date().toISOString()} ${c.req.method} ${c.req.path}: ${e.stack ?? e}\n`);
    return errorJson(c, 500, 'INTERNAL', (e as Error).message);
  });
  app.notFound((c) => errorJson(c, 404, 'NOT_FOUND', `No such page: ${c.req.path}`));

  // The one unauthenticated action: trade the token for a cookie, then drop it from the URL.
  app.get('/login', (c) => {
    const given = c.req.query('token');
    if (!given || !authorized(new Headers({ authorization: `Bearer ${given}` }), d.token))
      return errorJson(
        c,
        401,
        'UNAUTHORIZED',
        'Wrong or missing token.',
        'Open the address `corral web` prints.',
      );
    c.header('Set-Cookie', loginCookie(d.token));
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.redirect('/', 302);
  });
  // One log line per API call that changes something or fails, with its time: the daemon's log
  // is where a user looks when the web UI says something went wrong.
  app.use('/api/*', async (c, next) => {
    const t0 = performance.now();
    await next();
    if (c.req.method !== 'GET' || c.res.status >= 400)
      process.stderr.write(
        `${new Date().toISOString()} ${c.req.method} ${c.req.path} ${c.res.status} ${Math.round(performance.now() - t0)} ms\n`,
      );
  });
  app.use('/api/*', async (c, next) => {
    if (!authorized(c.req.raw.headers, d.token))
      return errorJson(
        c,
        401,
        'UNAUTHORIZED',
        'Missing or wrong token.',
        'Log in through the address `corral web` prints.',
      );
    c.header('Cache-Control', 'no-store');
    await next();
  });
  metaRoutes(app, d);
  sandboxRoutes(app, d);
  workspaceRoutes(app, d);
  taskRoutes(app, d);
  chatSessionRoutes(app, d);
  sshRoutes(app, d);
  warmRoutes(app, d);
  bridgeRoutes(app, d);
  app.doc31('/api/openapi.json', { openapi: '3.1.0', info: { title: 'corral daemon', version: d.version } });
  serveWeb(app);
  return app;
}
