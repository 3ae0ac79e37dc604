/** Commands that take --json print their errors as JSON on stdout too, with a non-zero exit. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const home = mkdtempSync(join(tmpdir(), 'corral-json-'));
const corral = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/corral.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: home, CORRAL_DATA_DIR: join(home, 'data') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('--json errors', () => {
  it.each([
    [['egress', 'show', '--json', '-w', '/nonexistent'], 'WORKSPACE_INVALID'],
    [['approvals', '--json', '-w', '/nonexistent'], 'WORKSPACE_INVALID'],
    [['services', 'list', '--json', '-w', '/nonexistent'], 'WORKSPACE_INVALID'],
    [['list', '--json', '--engine', 'nonsense'], 'BAD_INPUT'],
    [['sessions', 'list', '--json', '--bogus'], 'BAD_INPUT'],
  ])('%j → {"error":{"code":"%s",…}} on stdout', (args, code) => {
    const r = corral(...args);
    expect(r.status).toBe(1);
    const { error } = JSON.parse(r.stdout) as {
      error: { code: string; message: string; hint: string | null };
    };
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
    expect(error).toHaveProperty('hint');
    expect(r.stderr).toBe('');
  });

  it('without --json the same error stays text on stderr', () => {
    const r = corral('egress', 'show', '-w', '/nonexistent');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^corral: Workspace folder \/nonexistent does not exist\.\nhint: /);
  });

  it('--json after `--` belongs to the agent, not to corral', () => {
    const r = corral('shell', 'nosuchagent', '--', '--json');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^corral: /);
  });
});
