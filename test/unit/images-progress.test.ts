import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildFailureHint } from '../../src/images/build.js';
import { consoleProgress, formatElapsed, silentProgress } from '../../src/images/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { stream: { isTTY, write: (s: string) => out.push(s) }, out, text: () => out.join('') };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('consoleProgress', () => {
  it('in logs: one line per step, a heartbeat every 15 s, the elapsed time at the end', () => {
    const s = sink(false);
    const p = consoleProgress(s.stream);
    p.step('node: Node 22.23.3 toolchain', 2, 4);
    expect(s.text()).toBe('[2/4] node: Node 22.23.3 toolchain …\n');
    vi.advanceTimersByTime(14_000);
    expect(s.out).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(s.out[1]).toBe('[2/4] node: Node 22.23.3 toolchain … still working, 15.0s\n');
    vi.advanceTimersByTime(15_000);
    expect(s.out[2]).toContain('still working, 30.0s');
    vi.advanceTimersByTime(2_300);
    p.step('claude: @anthropic-ai/claude-code@2.1.330', 3, 4);
    expect(s.out[3]).toBe('[2/4] node: Node 22.23.3 toolchain … done in 32.3s\n');
    p.done('built x');
    expect(s.text()).not.toContain('\r');
    expect(s.out.at(-1)).toBe('built x\n');
    // No timer left behind.
    const n = s.out.length;
    vi.advanceTimersByTime(60_000);
    expect(s.out).toHaveLength(n);
  });

  it('on a terminal: one line rewritten every second, then cleared and replaced by the result', () => {
    const s = sink(true);
    const p = consoleProgress(s.stream);
    p.step('base: sandbox user', 1, 3);
    vi.advanceTimersByTime(3_000);
    expect(s.out.slice(1)).toEqual([
      '\r\x1b[2K[1/3] base: sandbox user … 1s',
      '\r\x1b[2K[1/3] base: sandbox user … 2s',
      '\r\x1b[2K[1/3] base: sandbox user … 3s',
    ]);
    p.fail();
    expect(s.out.at(-1)).toBe('\r\x1b[2K[1/3] base: sandbox user … failed after 3.0s\n');
    vi.advanceTimersByTime(5_000);
    expect(s.out.at(-1)).toContain('failed after');
  });

  it('keeps the last 20 output lines of the current step, shows them only when verbose', () => {
    const s = sink(false);
    const p = consoleProgress(s.stream);
    p.step('a');
    p.line('old');
    p.step('b');
    for (let i = 1; i <= 25; i++) p.line(`line ${i}`);
    p.line('two\nlines\n\n');
    expect(p.tail()).toHaveLength(20);
    expect(p.tail().at(-1)).toBe('lines');
    expect(p.tail()).not.toContain('old');
    expect(s.text()).not.toContain('line 1');
    const v = sink(false);
    const verbose = consoleProgress(v.stream, { verbose: true });
    verbose.line('npm http fetch');
    expect(v.text()).toContain('  npm http fetch\n');
  });

  it('prints nothing when quiet, but still keeps the tail', () => {
    const s = sink(true);
    const p = consoleProgress(s.stream, { quiet: true });
    p.step('x', 1, 1);
    vi.advanceTimersByTime(20_000);
    p.line('boom');
    p.done('built');
    expect(s.out).toEqual([]);
    expect(p.tail()).toEqual(['boom']);
    const q = silentProgress();
    q.line('kept');
    expect(q.tail()).toEqual(['kept']);
  });

  it('formats elapsed times', () => {
    expect(formatElapsed(12_345)).toBe('12.3s');
    expect(formatElapsed(125_000)).toBe('2m05s');
  });
});

describe('build failure hints', () => {
  it('point at the CA for TLS errors, at the network for connection errors, else at --no-cache', () => {
    expect(buildFailureHint(['npm error code UNABLE_TO_GET_ISSUER_CERT_LOCALLY'])).toMatch(/host_ca/);
    expect(buildFailureHint(['pip: SSLError(SSLCertVerificationError)'])).toMatch(/host_ca/);
    expect(buildFailureHint(['npm error network request failed, reason: getaddrinfo EAI_AGAIN'])).toMatch(
      /reachable/,
    );
    expect(buildFailureHint(['Temporary failure resolving deb.debian.org'])).toMatch(/reachable/);
    expect(buildFailureHint(['exit code 1'])).toMatch(/--no-cache/);
  });
});
