// The shapes the daemon's API returns (docs: /work/briefs/api.md, served as /api/openapi.json).
// Written out here rather than imported: the web bundle must not pull server code into the browser.

export interface Agent {
  name: string;
  displayName: string;
  aliases: string[];
}

export interface Sandbox {
  id: string;
  name: string;
  agent: string;
  workspace: string;
  workspaceId: string;
  profile: string;
  state: 'running' | 'exited' | 'created' | string;
  status: string;
  created: string;
  detached: boolean;
  notification: string | null;
}

export interface Workspace {
  path: string;
  id: string;
  sandboxes: number;
}

export interface Approval {
  id: string;
  workspace: string;
  agent: string;
  kind: 'command' | 'service' | string;
  summary: string;
  created: string;
}

export interface EgressRules {
  allow: string[];
  deny: string[];
}

export interface EgressEntry {
  time: string;
  method: string;
  host: string;
  port: number;
  path?: string;
  decision: 'allow' | 'deny' | string;
  reason?: string;
  /** Set on entries that arrived as live events, which name their workspace. */
  workspace?: string;
}

export interface Service {
  name: string;
  state: string;
  image: string;
}

export interface Transcript {
  id: string;
  agent: string;
  workspace: string;
  started: string;
  seconds?: number;
  bytes: number;
}

export type EventType =
  | 'sandbox.started'
  | 'sandbox.exited'
  | 'approval.waiting'
  | 'approval.answered'
  | 'egress.denied'
  | 'notification'
  | 'service.up'
  | 'service.down'
  | 'task.state'
  | 'session.message'
  | 'session.updated';

export interface CorralEvent {
  id: number;
  type: EventType | string;
  time: string;
  data: Record<string, unknown>;
}

export interface StartRequest {
  agent: string;
  /** `shell`: the agent's sandbox with an interactive shell instead of the agent. */
  mode?: 'agent' | 'shell';
  workdir: string;
  profile?: string;
  network?: 'gateway' | 'open' | 'none';
  prompt?: string;
  modelUrl?: string;
  /** A named provider (`corral provider add`) and one of its models. */
  provider?: string;
  model?: string;
  yolo?: boolean;
}

export interface Provider {
  name: string;
  kind: string;
  models: string[];
  defaultModel?: string;
  /** Built-in agents that speak its API. */
  agents: string[];
}

export interface Task {
  id: string;
  agent: string;
  prompt: string;
  workspace: string;
  source: string;
  worktree: string | null;
  branch: string | null;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';
  exitCode: number | null;
  created: string;
  started: string | null;
  ended: string | null;
  diffStat: string | null;
  sessionId: string | null;
  container: string;
  error: string | null;
}

/** The POST /api/tasks body (the Tasks page's form). */
export interface CreateTaskRequest {
  agent: string;
  prompt?: string;
  workdir?: string;
  repo?: string;
  url?: string;
  worktree?: boolean;
  modelUrl?: string;
}

export interface SessionAgent {
  agent: string;
  workspace: string;
  worktree: string | null;
  branch: string | null;
  conversation: string | null;
}

export interface ChatSession {
  id: string;
  name: string;
  workspace: string;
  worktree: boolean;
  created: string;
  agents: SessionAgent[];
  turns: number;
}

export interface SessionMessage {
  id: number;
  turn: number;
  /** 'user' or the agent that answered. */
  author: string;
  text: string;
  state: 'sent' | 'pending' | 'done' | 'failed' | 'lost';
  exitCode: number | null;
  created: string;
  ended: string | null;
}

export interface SessionDetail extends ChatSession {
  messages: SessionMessage[];
}

export interface NewSessionRequest {
  name: string;
  agents: string[];
  workdir: string;
  worktree?: boolean;
  modelUrl?: string;
}
