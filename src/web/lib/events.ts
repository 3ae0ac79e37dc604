// The daemon's event stream (/api/events) as one shared, self-reconnecting WebSocket. After a drop
// it reconnects with `since=<last id seen>`, so the daemon replays what was missed and every
// subscriber sees each event once, in id order. A restarted daemon numbers its events from 1
// again: before each connection the stream asks /api/version for the daemon's pid, and when that
// changed it starts over from 0 and tells subscribers to reload (a `resync` event, id 0).
import { api, wsUrl } from './api.js';
import { backoffDelay } from './backoff.js';
import type { CorralEvent } from './types.js';

export type StreamState = 'connecting' | 'open' | 'closed';
type Handler = (e: CorralEvent) => void;

export class EventStream {
  private ws: WebSocket | null = null;
  private lastId = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private pid: number | undefined;
  /** Bumped by start and stop, so a connect still awaiting /api/version from before gives up. */
  private generation = 0;
  private readonly handlers = new Set<Handler>();
  private readonly stateHandlers = new Set<(s: StreamState) => void>();
  state: StreamState = 'connecting';

  start(): void {
    this.stopped = false;
    this.generation++;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = null;
  }

  subscribe(fn: Handler): () => void {
    this.handlers.add(fn);
    return () => this.handlers.delete(fn);
  }

  onState(fn: (s: StreamState) => void): () => void {
    this.stateHandlers.add(fn);
    return () => this.stateHandlers.delete(fn);
  }

  private setState(s: StreamState): void {
    this.state = s;
    for (const fn of this.stateHandlers) fn(s);
  }

  private async connect(): Promise<void> {
    this.setState('connecting');
    const generation = this.generation;
    let pid: number;
    try {
      pid = (await api.version()).pid;
    } catch {
      // Down, or the session is gone (a 401 also shows the login screen): try again later.
      if (generation === this.generation) this.retry();
      return;
    }
    if (generation !== this.generation) return;
    const restarted = this.pid !== undefined && pid !== this.pid;
    this.pid = pid;
    if (restarted) {
      this.lastId = 0;
      this.emit({ id: 0, type: 'resync', time: new Date().toISOString(), data: {} });
    }
    const ws = new WebSocket(wsUrl(`/api/events${this.lastId ? `?since=${this.lastId}` : ''}`));
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') return;
      let ev: CorralEvent;
      try {
        ev = JSON.parse(m.data) as CorralEvent;
      } catch {
        return;
      }
      // A replay after reconnecting may overlap what we saw; ids are monotonic, so skip old ones.
      if (typeof ev.id === 'number') {
        if (ev.id <= this.lastId) return;
        this.lastId = ev.id;
      }
      this.emit(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
  }

  private retry(): void {
    this.setState('closed');
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), backoffDelay(this.attempt++));
  }

  private emit(ev: CorralEvent): void {
    for (const fn of this.handlers) fn(ev);
  }
}

export const events = new EventStream();
