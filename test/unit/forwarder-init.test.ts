/**
 * The sandbox's start script waits for its forwarder before running anything: it goes on once the
 * forwarder says it listens, and gives up at once, with the forwarder's output, when it exits
 * first. Run here with the host's sh and node, a stand-in forwarder in place of the real one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FORWARDER_FILE, SANDBOX_GATEWAY_DIR } from '../../src/gateway/settings.js';
import { forwarderInit } from '../../src/sandbox/gateway-side.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-fwd-init-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start(forwarder: string) {
  writeFileSync(join(dir, FORWARDER_FILE), forwarder);
  const script = [...forwarderInit(), 'echo after-the-wait'].join('\n').replaceAll(SANDBOX_GATEWAY_DIR, dir);
  const t0 = Date.now();
  const r = spawnSync('/bin/sh', ['-c', `set -e\n${script}`], {
    env: { PATH: process.env.PATH, TMPDIR: dir },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { ...r, ms: Date.now() - t0 };
}

describe('waiting for the forwarder', () => {
  it('goes on once the forwarder writes its ready file', () => {
    const r = start(`
      import { writeFileSync } from 'node:fs';
      const file = process.argv[process.argv.indexOf('--ready') + 1];
      setTimeout(() => writeFileSync(file, 'ready\\n'), 150);
      setTimeout(() => {}, 1000);
    `);
    expect(r.stdout).toContain('after-the-wait');
    expect(r.status).toBe(0);
  });

  it('gives up at once, showing its output, when the forwarder exits without listening', () => {
    const r = start(`console.error('cannot bind 127.0.0.1:3128'); process.exit(1);`);
    expect(r.status).toBe(70);
    expect(r.stdout).not.toContain('after-the-wait');
    expect(r.stderr).toContain('the egress forwarder did not start');
    expect(r.stderr).toContain('cannot bind 127.0.0.1:3128');
    // Well under the 10 s cap: the exit was noticed, not waited out.
    expect(r.ms).toBeLessThan(8000);
  });
});
