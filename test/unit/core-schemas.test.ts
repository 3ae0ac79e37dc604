import { describe, expect, it } from 'vitest';
import { AnswerApprovalsInput, ExecInput, StartSandboxInput } from '../../src/core/schemas.js';

describe('core input schemas', () => {
  it('take a JSON start request as the CLI would build it', () => {
    const input = {
      agent: 'claude',
      workdir: '/tmp/ws',
      mode: 'agent',
      args: ['--verbose'],
      network: 'gateway',
      allow: ['example.com'],
      allowHost: [8080],
      env: ['FOO=bar'],
      detach: true,
      prompt: 'hello',
    };
    expect(StartSandboxInput.parse(JSON.parse(JSON.stringify(input)))).toEqual(input);
  });

  it('name the path of what is wrong, and refuse keys they do not know', () => {
    const bad = StartSandboxInput.safeParse({ network: 'host', allowHost: [70000], extra: 1 });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.') || i.message);
    expect(paths).toContain('network');
    expect(paths).toContain('allowHost.0');
    expect(bad.error!.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
    expect(ExecInput.safeParse({ target: 'claude', command: [] }).success).toBe(false);
    expect(AnswerApprovalsInput.safeParse({ answer: 'maybe', ids: ['a'] }).error?.issues[0]?.path).toEqual([
      'answer',
    ]);
  });
});
