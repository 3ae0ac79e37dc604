/**
 * The sandbox's start script waits for its forwarder before running anything: it goes on once the
 * forwarder says it listens, and gives up at once, with the forwarder's output, when it exits
 * first. Run here with the host's sh and node, a stand-in forwarder in place of the real one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FORWARDER_FILE, RELAY_FILE, SANDBOX_GATEWAY_DIR } from '../../src/gateway/settings.js';
import { forwarderInit } from '../../src/sandbox/gateway-side.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-fwd-init-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start(forwarder: string, relay?: string) {
  writeFileSync(join(dir, FORWARDER_FILE), forwarder);
  if (relay !== undefined) writeFileSync(join(dir, RELAY_FILE), relay, { mode: 0o755 });
  const script = [...forwarderInit(), 'echo after-the-wait']
    .join('\n')
    .replaceAll(SANDBOX_GATEWAY_DIR, dir)
    .replaceAll('/tmp/corral-ssh', `${dir}/corral-ssh`);
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

  // Stand-ins for the Go relay: shell scripts, run the way the start script runs the real one.
  const standInRelay = `#!/bin/sh
[ "$1" = --version ] && exit 0
while [ $# -gt 0 ]; do [ "$1" = --ready ] && echo relay > "$2"; shift; done
sleep 1`;

  it('runs the relay when the folder has one that runs, and the ssh helper uses it', () => {
    const r = start(`console.error('the Node forwarder ran'); process.exit(1);`, standInRelay);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('after-the-wait');
    expect(readFileSync(join(dir, 'corral-forwarder.ready'), 'utf8')).toBe('relay\n');
    expect(readFileSync(join(dir, 'corral-ssh-proxy'), 'utf8')).toBe(
      `#!/bin/sh\nexec ${dir}/${RELAY_FILE} --connect ${dir}/proxy.sock "$1" "$2"\n`,
    );
  });

  it('falls back to the Node forwarder when the relay cannot run here', () => {
    const r = start(
      `import { writeFileSync } from 'node:fs';
      writeFileSync(process.argv[process.argv.indexOf('--ready') + 1], 'node\\n');
      setTimeout(() => {}, 1000);`,
      '#!/bin/sh\nexit 126\n',
    );
    expect(r.stdout).toContain('after-the-wait');
    expect(readFileSync(join(dir, 'corral-forwarder.ready'), 'utf8')).toBe('node\n');
    expect(readFileSync(join(dir, 'corral-ssh-proxy'), 'utf8')).toMatch(
      new RegExp(`^#!/bin/sh\nexec "[^"]*node" ${dir}/${FORWARDER_FILE} --connect `),
    );
  });
});
