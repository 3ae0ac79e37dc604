// One viewer's connection to a sandbox's TTY (/api/sandboxes/:id/terminal): binary frames are the
// TTY's bytes both ways, a JSON text frame resizes (from us) or says the attach is made (from the daemon). A dropped connection reconnects with backoff;
// closing it on purpose (detach) leaves the sandbox running.
import { wsUrl } from './api.js';
import { backoffDelay } from './backoff.js';

export type TermState = 'connecting' | 'open' | 'reconnecting' | 'ended' | 'detached';

export interface TermCallbacks {
  onData(bytes: Uint8Array): void;
  onState(s: TermState, detail?: string): void;
}

// Close codes after which reconnecting is pointless: the sandbox is gone or we may not attach.
const FINAL = new Set([1000, 1008, 4401, 4403, 4404]);

export class TerminalSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private detached = false;
  private size: { cols: number; rows: number } | null = null;
  private readonly enc = new TextEncoder();

  constructor(
    private readonly id: string,
    private readonly cb: TermCallbacks,
  ) {}

  connect(): void {
    this.detached = false;
    clearTimeout(this.timer);
    this.cb.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(wsUrl(`/api/sandboxes/${encodeURIComponent(this.id)}/terminal`));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      // A new viewer (or a reconnect) tells the TTY its size at once, so full-screen programs redraw.
      if (this.size) this.sendResize(this.size.cols, this.size.rows);
    };
    ws.onmessage = (m) => {
      if (m.data instanceof ArrayBuffer) this.cb.onData(new Uint8Array(m.data));
      // Text frames are the daemon's: "attached" once the TTY is ours (open means we see its output).
      else if (typeof m.data === 'string' && m.data.includes('"attached"')) this.cb.onState('open');
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.detached) return this.cb.onState('detached');
      if (FINAL.has(ev.code)) return this.cb.onState('ended', ev.reason || `closed (${ev.code})`);
      const delay = backoffDelay(this.attempt++);
      this.cb.onState('reconnecting', `retrying in ${(delay / 1000).toFixed(1)} s`);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  send(data: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(this.enc.encode(data));
  }

  resize(cols: number, rows: number): void {
    if (this.size?.cols === cols && this.size?.rows === rows) return;
    this.size = { cols, rows };
    this.sendResize(cols, rows);
  }

  private sendResize(cols: number, rows: number): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Closes this viewer only; the sandbox and other viewers carry on. */
  detach(): void {
    this.detached = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'detach');
    else this.cb.onState('detached');
  }
}
