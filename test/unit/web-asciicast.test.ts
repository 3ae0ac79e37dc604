/** The web UI's transcript player: asciicast v2 parsing and timed replay (pure logic). */
import { describe, expect, it, vi } from 'vitest';
import { parseCast, play } from '../../src/web/lib/asciicast.js';

const CAST = [
  JSON.stringify({ version: 2, width: 100, height: 30, timestamp: 1 }),
  JSON.stringify([0.1, 'o', 'hello ']),
  JSON.stringify([0.1, 'o', 'world\r\n']),
  JSON.stringify([0.5, 'i', 'typed']),
  JSON.stringify([1.0, 'r', '120x40']),
  JSON.stringify([10.0, 'o', 'late']),
  '[11.0, "o", "cut of', // a recording cut off mid-line
].join('\n');

describe('asciicast replay', () => {
  it('parses output and resize events, skipping input and a torn last line', () => {
    const c = parseCast(CAST);
    expect(c.width).toBe(100);
    expect(c.height).toBe(30);
    expect(c.frames.map((f) => f.kind)).toEqual(['o', 'o', 'r', 'o']);
    expect(c.duration).toBe(10);
  });

  it('refuses what is not asciicast v2, with a readable message', () => {
    expect(() => parseCast('')).toThrow('empty');
    expect(() => parseCast('not json')).toThrow('header');
    expect(() => parseCast(JSON.stringify({ version: 1 }))).toThrow('version 1');
  });

  it('replays with the recorded timing, idle gaps capped, and stops when asked', () => {
    vi.useFakeTimers();
    try {
      const out: string[] = [];
      const sizes: string[] = [];
      let done = false;
      play(
        parseCast(CAST),
        { write: (d) => out.push(d), resize: (c, r) => sizes.push(`${c}x${r}`) },
        { speed: 1, maxIdle: 2, onDone: () => (done = true) },
      );
      vi.advanceTimersByTime(0);
      // Frames at the same time are written together.
      expect(out).toEqual(['hello ', 'world\r\n']);
      vi.advanceTimersByTime(900);
      expect(sizes).toEqual(['120x40']);
      // 9 s of idle plays as 2 s.
      vi.advanceTimersByTime(1999);
      expect(out).toHaveLength(2);
      vi.advanceTimersByTime(1);
      expect(out.at(-1)).toBe('late');
      expect(done).toBe(true);

      const out2: string[] = [];
      const stop = play(
        parseCast(CAST),
        { write: (d) => out2.push(d), resize: () => {} },
        { speed: 1, maxIdle: 2 },
      );
      vi.advanceTimersByTime(0);
      stop();
      vi.advanceTimersByTime(10_000);
      expect(out2).toEqual(['hello ', 'world\r\n']);
    } finally {
      vi.useRealTimers();
    }
  });
});
