/**
 * The daemon's event stream: every event gets the next id, the last MAX are kept, and a client that
 * reconnects with the last id it saw gets everything after it replayed first, in order.
 */
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
  type: EventType;
  time: string;
  data: Record<string, unknown>;
}

const MAX = 2000;

export class EventBus {
  private events: CorralEvent[] = [];
  // Ids keep growing across daemon restarts (they start at the clock's milliseconds), so a client
  // resuming with an id from the daemon before never mistakes new events for ones it has seen.
  private next = Date.now();
  private listeners = new Set<(e: CorralEvent) => void>();

  publish(type: EventType, data: Record<string, unknown>): CorralEvent {
    const e: CorralEvent = { id: this.next++, type, time: new Date().toISOString(), data };
    this.events.push(e);
    if (this.events.length > MAX) this.events.splice(0, this.events.length - MAX);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Kept events with an id above `since` (all kept ones for 0). */
  since(since: number): CorralEvent[] {
    return this.events.filter((e) => e.id > since);
  }

  subscribe(fn: (e: CorralEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
