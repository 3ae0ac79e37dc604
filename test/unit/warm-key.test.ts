import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../src/engine/index.js';
import { isIdleWarm, warmKey } from '../../src/sandbox/warm.js';

const base: ContainerSpec = {
  name: 'corral-abc-claude',
  image: 'localhost/corral/claude:1',
  cmd: ['/bin/sh', '-c', 'exec "$@"', 'corral-init', 'claude', '-p', 'one'],
  env: { HOME: '/home/agent', CORRAL_FILE_0: 'AAA', ANTHROPIC_API_KEY: 'sk-ant-corral1' },
  labels: { 'io.corral.session': 's1', 'io.corral.owner-pid': 'h:1', 'io.corral.agent': 'claude' },
  user: '1000:1000',
  workdir: '/workspace',
  tty: false,
  openStdin: true,
  mounts: [{ type: 'bind', source: '/w', target: '/workspace' }],
  capDrop: ['ALL'],
  noNewPrivileges: true,
};

describe('warmKey', () => {
  it('leaves out what is per run: name, command, session, maker, file env, placeholder values', () => {
    const other: ContainerSpec = {
      ...base,
      name: 'corral-abc-claude-sh-1',
      cmd: ['claude', '-p', 'two'],
      env: { ...base.env, CORRAL_FILE_0: 'BBB', CORRAL_FILE_1: 'CCC', ANTHROPIC_API_KEY: 'sk-ant-corral2' },
      labels: { ...base.labels, 'io.corral.session': 's2', 'io.corral.owner-pid': 'h:2' },
    };
    expect(warmKey(other, { ANTHROPIC_API_KEY: 'sk-ant-corral2' })).toBe(
      warmKey(base, { ANTHROPIC_API_KEY: 'sk-ant-corral1' }),
    );
    // Not a placeholder: a different key value is a different sandbox.
    expect(warmKey(other)).not.toBe(warmKey(base));
  });

  it('anything else differing is another sandbox', () => {
    const k = warmKey(base);
    expect(warmKey({ ...base, env: { ...base.env, FOO: '1' } })).not.toBe(k);
    expect(warmKey({ ...base, image: 'localhost/corral/claude:2' })).not.toBe(k);
    expect(
      warmKey({ ...base, mounts: [...base.mounts, { type: 'bind', source: '/x', target: '/x' }] }),
    ).not.toBe(k);
    expect(warmKey({ ...base, tty: true })).not.toBe(k);
    expect(warmKey({ ...base, labels: { ...base.labels, 'io.corral.agent': 'codex' } })).not.toBe(k);
    // Key order does not matter.
    expect(warmKey({ ...base, env: Object.fromEntries(Object.entries(base.env).reverse()) })).toBe(k);
  });

  it('an idle warm container is one by label and name; a taken one is a sandbox again', () => {
    expect(isIdleWarm({ name: '/corral-warm-abc-claude-1', labels: { 'io.corral.warm': 'k' } })).toBe(true);
    expect(isIdleWarm({ name: 'corral-abc-claude', labels: { 'io.corral.warm': 'k' } })).toBe(false);
    expect(isIdleWarm({ name: 'corral-warm-abc-claude-1', labels: {} })).toBe(false);
  });
});
