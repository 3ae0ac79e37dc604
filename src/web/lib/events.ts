// The daemon's event stream (/api/events) as one shared, self-reconnecting WebSocket. After a drop
// it reconnects with `since=<last id seen>`, so the daemon replays what was missed and every
// subscriber sees each event once, in id order.

import { wsUrl } from './api.js';
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
  private readonly handlers = new Set<Handler>();
  private readonly stateHandlers = new Set<(s: StreamState) => void>();
  state: StreamState = 'connecting';

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
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

  private connect(): void {
    this.setState('connecting');
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
      for (const fn of this.handlers) fn(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState('closed');
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), backoffDelay(this.attempt++));
    };
  }
}

export const events = new EventStream();
