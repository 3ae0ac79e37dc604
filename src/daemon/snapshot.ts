/**
 * The sandbox list, shared by every reader: one engine call at a time, reused while it is fresh.
 * 200 browsers asking at once cost one engine list, not 200 (an engine list is 10–30 ms here, so
 * answering each from the engine would queue far past the API's p99 target of 20 ms).
 */
import type { SandboxListing as SandboxInfo } from '../core/index.js';

const FRESH_MS = 1000;

export class SandboxSnapshot {
  private value?: { at: number; list: SandboxInfo[] };
  private inflight?: Promise<SandboxInfo[]>;

  constructor(private readonly load: () => Promise<SandboxInfo[]>) {}

  /** The list, at most FRESH_MS old. */
  get(): Promise<SandboxInfo[]> {
    if (this.value && Date.now() - this.value.at < FRESH_MS) return Promise.resolve(this.value.list);
    return this.refresh();
  }

  /** A new list from the engine (joining one already under way). */
  refresh(): Promise<SandboxInfo[]> {
    this.inflight ??= this.load()
      .then((list) => {
        this.value = { at: Date.now(), list };
        return list;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** After a start or stop: the next reader sees the change. */
  invalidate(): void {
    this.value = undefined;
  }
}
