import { describe, expect, it } from 'vitest';
import { keptRelay, type Relay } from '../../src/engine/kubernetes/relay.js';

/** A relay whose exec the test ends (the pod going) and whose stops it counts. */
function fakeRelay(log: string[], name: string): Relay & { end(): void } {
  let end: () => void = () => {};
  const ended = new Promise<void>((r) => {
    end = r;
  });
  return {
    ended,
    end,
    stop: async () => {
      log.push(`stop ${name}`);
      end();
    },
  };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('a relay kept up for the bridge', () => {
  it('the first must open; a failed first fails the start', async () => {
    await expect(
      keptRelay(async () => {
        throw new Error('no gateway pod');
      }),
    ).rejects.toThrow('no gateway pod');
  });

  it('is made again when its exec ends, retrying while no pod has the folder, until the undo', async () => {
    const log: string[] = [];
    const relays: ReturnType<typeof fakeRelay>[] = [];
    let failures = 0;
    const undo = await keptRelay(async () => {
      if (relays.length === 1 && failures < 2) {
        failures++;
        throw new Error('the gateway pod is not back yet');
      }
      const r = fakeRelay(log, `r${relays.length}`);
      relays.push(r);
      return r;
    }, 5);
    expect(relays).toHaveLength(1);
    relays[0]!.end(); // the gateway pod went
    for (let i = 0; i < 100 && relays.length < 2; i++) await tick();
    expect(relays).toHaveLength(2);
    expect(failures).toBe(2);
    await undo();
    expect(log).toEqual(['stop r1']);
    // Nothing is made after the undo, however long one waits.
    await tick(30);
    expect(relays).toHaveLength(2);
  });

  it('an undo while the next one is being made stops that one as well', async () => {
    const log: string[] = [];
    const relays: ReturnType<typeof fakeRelay>[] = [];
    let release: () => void = () => {};
    const undo = await keptRelay(async () => {
      const r = fakeRelay(log, `r${relays.length}`);
      relays.push(r);
      if (relays.length === 2)
        await new Promise<void>((ok) => {
          release = ok;
        });
      return r;
    }, 5);
    relays[0]!.end();
    for (let i = 0; i < 100 && relays.length < 2; i++) await tick();
    const undone = undo();
    release();
    await undone;
    expect(log.sort()).toEqual(['stop r0', 'stop r1']);
  });
});
