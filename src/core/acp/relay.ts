/**
 * The JSON-RPC relay between an editor (ACP client, on our stdio) and the agent's ACP server (in
 * the sandbox): newline-delimited JSON both ways, paths mapped, and a side channel of corral's own
 * requests to the editor (permission for host commands) whose answers never reach the agent.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { type PathMap, toHost, toSandbox } from './paths.js';

type Id = string | number;
interface Message {
  jsonrpc?: string;
  id?: Id | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** Calls `onLine` with each complete line of `stream`; `onEnd` once it ends. */
function lines(stream: Readable, onLine: (line: string) => void, onEnd: () => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onLine(line);
    }
  });
  stream.on('end', () => {
    if (buf.trim()) onLine(buf);
    onEnd();
  });
}

export class AcpRelay {
  /** What the sandbox reads (the editor's messages, mapped) and writes (the agent's). */
  readonly agentIn = new PassThrough();
  readonly agentOut = new PassThrough();
  /** The editor's requests the agent has not answered yet (answered with an error if it never starts). */
  private readonly pending = new Map<Id, string>();
  private readonly ours = new Map<Id, (m: Message) => void>();
  private seq = 0;
  private clientEnded = false;
  /** The session the editor last named: corral's permission requests go to it. */
  sessionId: string | undefined;
  private readonly endListeners: (() => void)[] = [];

  constructor(
    private readonly editorIn: Readable,
    private readonly editorOut: Writable,
    private readonly paths: PathMap,
  ) {
    lines(
      editorIn,
      (l) => this.fromEditor(l),
      () => this.editorEnded(),
    );
    lines(
      this.agentOut,
      (l) => this.fromAgent(l),
      () => {},
    );
  }

  /** Runs `fn` when the editor closes its side (it disconnected). */
  onEditorEnd(fn: () => void): void {
    if (this.clientEnded) fn();
    else this.endListeners.push(fn);
  }

  private editorEnded(): void {
    this.clientEnded = true;
    this.agentIn.end();
    for (const fn of this.endListeners.splice(0)) fn();
    // corral's own questions get no answer now: treat them as declined.
    for (const [id, done] of this.ours) {
      this.ours.delete(id);
      done({ id, error: { code: -32000, message: 'the editor disconnected' } });
    }
  }

  private send(m: Message): void {
    this.editorOut.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
  }

  private fromEditor(line: string): void {
    let m: Message;
    try {
      m = JSON.parse(line) as Message;
    } catch {
      this.send({ id: null, error: { code: -32700, message: 'Parse error: not JSON' } });
      return;
    }
    if (m.id !== undefined && m.id !== null && !m.method && this.ours.has(m.id)) {
      const done = this.ours.get(m.id)!;
      this.ours.delete(m.id);
      done(m);
      return;
    }
    if (m.method && m.id !== undefined && m.id !== null) this.pending.set(m.id, m.method);
    this.noteSession(m.params);
    this.agentIn.write(`${JSON.stringify(toSandbox(m, this.paths))}\n`);
  }

  private fromAgent(line: string): void {
    let m: Message;
    try {
      m = JSON.parse(line) as Message;
    } catch {
      // Not JSON-RPC (a stray log line on stdout): keep it off the editor's channel.
      return;
    }
    if (!m.method && m.id !== undefined && m.id !== null) this.pending.delete(m.id);
    this.noteSession(m.result);
    this.noteSession(m.params);
    this.send(toHost(m, this.paths) as Message);
  }

  private noteSession(v: unknown): void {
    const id = (v as { sessionId?: unknown } | undefined)?.sessionId;
    if (typeof id === 'string') this.sessionId = id;
  }

  /** Ask the editor something of corral's own; resolves with its answer (or an error message). */
  request(method: string, params: unknown): Promise<Message> {
    if (this.clientEnded)
      return Promise.resolve({ error: { code: -32000, message: 'the editor disconnected' } });
    const id = `corral-${++this.seq}`;
    return new Promise((resolve) => {
      this.ours.set(id, resolve);
      this.send({ id, method, params: toHost(params, this.paths) });
    });
  }

  /**
   * The sandbox never answered (it failed to start, or exited): each request still open gets a
   * JSON-RPC error saying why, instead of waiting forever.
   */
  failPending(message: string, data?: unknown): void {
    for (const [id, method] of this.pending) {
      this.send({ id, error: { code: -32603, message: `${method}: ${message}`, ...(data ? { data } : {}) } });
    }
    this.pending.clear();
  }

  /** The session is over: stop reading the editor (so a CLI process can exit while it stays open). */
  close(): void {
    this.editorIn.removeAllListeners('data');
    this.editorIn.destroy();
    this.agentIn.end();
  }

  /**
   * When corral fails before the agent reads anything, the editor's first request may not have
   * arrived yet: wait briefly for it, so the error has an id to answer.
   */
  async failFirst(message: string, data?: unknown, waitMs = 2000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (!this.pending.size && !this.clientEnded && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.failPending(message, data);
  }
}
