// One fetch wrapper for the daemon's API. Every failure becomes an ApiError carrying the daemon's
// {code, message, hint}, so pages can show it as a readable message (never a console-only error).
// The session is the HttpOnly cookie set by /login?token=…; the page never sees the token.
import type {
  Agent,
  Approval,
  ChatSession,
  CreateTaskRequest,
  EgressEntry,
  EgressRules,
  NewSessionRequest,
  Provider,
  Sandbox,
  Service,
  SessionDetail,
  SessionMessage,
  StartRequest,
  Task,
  Transcript,
  Workspace,
} from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Listener = (e: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever the daemon answers 401, so the app can show the login screen. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

async function request<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(
      0,
      'DAEMON_UNREACHABLE',
      `Cannot reach the corral daemon (${(e as Error).message}).`,
      'Is it running? Check with `corral daemon status`, start it with `corral daemon start`.',
    );
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401) for (const fn of unauthorizedListeners) fn(err);
    throw err;
  }
  if (raw) return (await res.text()) as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; hint?: string } };
    if (error?.message)
      return new ApiError(res.status, error.code ?? `HTTP_${res.status}`, error.message, error.hint);
  } catch {
    // Not JSON: a proxy's page or an old daemon; show what we got, shortened.
  }
  return new ApiError(
    res.status,
    `HTTP_${res.status}`,
    `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
  );
}

const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const str = s.toString();
  return str ? `?${str}` : '';
};

export const api = {
  version: () => request<{ version: string; build: string; pid: number }>('GET', '/api/version'),
  agents: () => request<Agent[]>('GET', '/api/agents'),
  providers: () => request<Provider[]>('GET', '/api/providers'),
  sandboxes: () => request<Sandbox[]>('GET', '/api/sandboxes'),
  sandboxLogs: (id: string, tail = 200) =>
    request<{ text: string }>('GET', `/api/sandboxes/${encodeURIComponent(id)}/logs${q({ tail })}`),
  startSandbox: (body: StartRequest) => request<{ id: string; name: string }>('POST', '/api/sandboxes', body),
  stopSandbox: (id: string) =>
    request<{ stopped: boolean }>('POST', `/api/sandboxes/${encodeURIComponent(id)}/stop`),
  workspaces: () => request<Workspace[]>('GET', '/api/workspaces'),
  approvals: () => request<Approval[]>('GET', '/api/approvals'),
  answerApproval: (id: string, workspace: string, answer: 'allow' | 'always' | 'deny') =>
    request<{ ok: boolean }>('POST', `/api/approvals/${encodeURIComponent(id)}`, { workspace, answer }),
  egressRules: (workspace: string) => request<EgressRules>('GET', `/api/egress/rules${q({ workspace })}`),
  egressLog: (workspace: string, deniedOnly = false, limit = 200) =>
    request<EgressEntry[]>(
      'GET',
      `/api/egress/log${q({ workspace, denied: deniedOnly ? 1 : undefined, limit })}`,
    ),
  addEgressRule: (workspace: string, action: 'allow' | 'deny', rule: string) =>
    request<{ applied: boolean }>('POST', '/api/egress/rules', { workspace, action, rule }),
  services: (workspace: string) => request<Service[]>('GET', `/api/services${q({ workspace })}`),
  serviceLogs: (workspace: string, name: string, tail = 200) =>
    request<{ text: string }>(
      'GET',
      `/api/services/${encodeURIComponent(name)}/logs${q({ workspace, tail })}`,
    ),
  transcripts: () => request<Transcript[]>('GET', '/api/transcripts'),
  tasks: () => request<Task[]>('GET', '/api/tasks'),
  taskLog: (id: string) => request<{ text: string }>('GET', `/api/tasks/${encodeURIComponent(id)}/log`),
  createTask: (body: CreateTaskRequest) => request<{ id: string }>('POST', '/api/tasks', body),
  sessions: () => request<ChatSession[]>('GET', '/api/sessions'),
  session: (ref: string) => request<SessionDetail>('GET', `/api/sessions/${encodeURIComponent(ref)}`),
  newSession: (body: NewSessionRequest) => request<ChatSession>('POST', '/api/sessions', body),
  removeSession: (ref: string) => request<ChatSession>('DELETE', `/api/sessions/${encodeURIComponent(ref)}`),
  sendToSession: (ref: string, message: string) =>
    request<{ turn: number; message: SessionMessage; pending: SessionMessage[] }>(
      'POST',
      `/api/sessions/${encodeURIComponent(ref)}/messages`,
      { message },
    ),
  cancelTask: (id: string) => request<Task>('POST', `/api/tasks/${encodeURIComponent(id)}/cancel`),
  transcript: (id: string) =>
    request<string>('GET', `/api/transcripts/${encodeURIComponent(id)}`, undefined, true),
};

/** A ws:// or wss:// URL for a path on this origin (the cookie goes along with the upgrade). */
export function wsUrl(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}
