/**
 * The scripted model server: one node:http server that answers the Anthropic, OpenAI (Responses
 * and Chat Completions) and Gemini wire formats from one script. Sandboxes reach it over the
 * engine's bridge, so it may listen beyond loopback; `allow` limits who gets an answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as anthropic from './anthropic.js';
import * as gemini from './gemini.js';
import * as chat from './openai-chat.js';
import * as responses from './openai-responses.js';
import { DEFAULT_SCRIPT_PATH } from './paths.js';
import type { Reply } from './script.js';
import { loadScript, type Script } from './script.js';
import { json } from './sse.js';
import { decide, type OfferedTool } from './tools.js';

export type Wire = 'anthropic' | 'openai-responses' | 'openai-chat' | 'gemini';

export interface RecordedRequest {
  wire: Wire;
  path: string;
  stream: boolean;
  /** Script step answered, or null for a side request (no tools offered). */
  step: number | null;
  toolNames: string[];
  /** The request body, when the server was started with recordBodies (tests). */
  body?: string;
  /** The key the request carried (x-api-key, authorization or x-goog-api-key), with recordBodies. */
  key?: string;
}

export interface ModelServer {
  url: string;
  host: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface ModelServerOptions {
  port?: number;
  host?: string;
  script?: Script;
  scriptPath?: string;
  allow?: (remoteAddress: string) => boolean;
  onRequest?: (r: RecordedRequest) => void;
  recordBodies?: boolean;
  /** The ids its model lists name (every one answers the same script). */
  models?: string[];
}

/** Loopback and the private ranges container bridges use; everything else is refused. */
export function isLocalOrContainerAddress(addr: string): boolean {
  const a = addr.replace(/^::ffff:/, '');
  if (a === '::1' || /^127\./.test(a)) return true;
  if (/^10\./.test(a) || /^192\.168\./.test(a)) return true;
  const m = /^172\.(\d+)\./.exec(a);
  if (m && Number(m[1]) >= 16 && Number(m[1]) <= 31) return true;
  return /^f[cd][0-9a-f]{2}:/i.test(a);
}

interface Route {
  wire: Wire;
  inspect(payload: never): { tools: OfferedTool[]; toolResults: number; stream: boolean };
  respond(res: ServerResponse, payload: never, reply: Reply, stream: boolean): void;
}

/** Which wire format a POST speaks, by its path. */
function routeFor(path: string): Route | undefined {
  if (path.endsWith('/messages')) return { wire: 'anthropic', ...anthropic };
  if (path.endsWith('/responses')) return { wire: 'openai-responses', ...responses };
  if (path.endsWith('/chat/completions')) return { wire: 'openai-chat', ...chat };
  const g = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (!g) return undefined;
  const stream = g[2] === 'streamGenerateContent';
  return {
    wire: 'gemini',
    inspect: (p: gemini.GeminiRequest) => ({ ...gemini.inspect(p), stream }),
    respond: (res, _p, reply) => gemini.respond(res, reply, stream, g[1]!),
  };
}

function keyOf(req: IncomingMessage): string {
  const h = req.headers;
  return String(h['x-api-key'] ?? h['x-goog-api-key'] ?? h.authorization ?? '');
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : {};
}

/** Each provider kind's model list for these ids: OpenAI/Anthropic (`data`), Gemini, Ollama. */
function modelLists(ids: readonly string[]) {
  return {
    openai: {
      object: 'list',
      data: ids.map((id) => ({
        id,
        object: 'model',
        type: 'model',
        display_name: id,
        created_at: '2026-01-01T00:00:00Z',
      })),
    },
    gemini: {
      models: ids.map((id) => ({
        name: `models/${id}`,
        displayName: id,
        supportedGenerationMethods: ['generateContent', 'streamGenerateContent'],
      })),
    },
    ollama: { models: ids.map((id) => ({ name: id, model: id, modified_at: '2026-01-01T00:00:00Z' })) },
  };
}

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const script = opts.script ?? (await loadScript(opts.scriptPath ?? DEFAULT_SCRIPT_PATH));
  const requests: RecordedRequest[] = [];
  const lists = modelLists(opts.models ?? ['corral-scripted']);
  const record = (r: RecordedRequest) => {
    requests.push(r);
    opts.onRequest?.(r);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (opts.allow && !opts.allow(req.socket.remoteAddress ?? ''))
      return json(res, 403, { error: { message: 'forbidden' } });
    const url = new URL(req.url ?? '/', 'http://model');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/health' || path === '') return json(res, 200, { ok: true });
      // Each provider kind's model list (corral provider add/refresh): Gemini's, Ollama's, else
      // the OpenAI/Anthropic shape.
      if (/\/v1beta\/models$/.test(path)) return json(res, 200, lists.gemini);
      if (path === '/api/tags') return json(res, 200, lists.ollama);
      if (/\/models$/.test(path)) return json(res, 200, lists.openai);
      return json(res, 404, { error: { message: `no route ${path}` } });
    }
    const payload = (await body(req)) as Record<string, unknown>;
    if (path.endsWith('/messages/count_tokens')) return json(res, 200, { input_tokens: 10 });
    const route = routeFor(path);
    if (route) {
      const info = route.inspect(payload as never);
      const reply = decide(script, info.tools, info.toolResults);
      const toolNames = info.tools.map((t) => t.name);
      record({
        wire: route.wire,
        path,
        stream: info.stream,
        step: reply.step,
        toolNames,
        ...(opts.recordBodies ? { body: JSON.stringify(payload), key: keyOf(req) } : {}),
      });
      return route.respond(res, payload as never, reply, info.stream);
    }
    if (path.endsWith(':countTokens')) return json(res, 200, { totalTokens: 10 });
    return json(res, 404, { error: { message: `no route ${path}` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 400, { error: { message: (e as Error).message } });
      else res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    host,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
