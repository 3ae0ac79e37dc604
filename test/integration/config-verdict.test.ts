/**
 * The built CLI remembers the last config it validated (src/config/verdicts.ts) so a start with an
 * unchanged config skips zod. The remembered verdict must be used only for exactly the same
 * layers: any change to the file, the project file or CORRAL_* validates again, and an invalid
 * config is refused whatever was remembered before.
 */
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, tempWorkspace } from '../helpers/cli.js';

describe('remembered config verdicts (built CLI)', () => {
  let dir: string;
  let ws: string;
  let env: NodeJS.ProcessEnv;
  const verdict = () => join(dir, 'cache', 'config-verdict.json');
  const show = async (extra: NodeJS.ProcessEnv = {}) => {
    const r = await corral(['config', 'show', '--json'], { cwd: ws, env: { ...env, ...extra } });
    // With --json an error is JSON on stdout too: {"error":{code,message,hint}}.
    const error = r.code === 0 ? '' : (JSON.parse(r.stdout) as { error: { message: string } }).error.message;
    return { ...r, error, config: r.code === 0 ? JSON.parse(r.stdout).config : undefined };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corral-verdict-'));
    ws = await realpath(await tempWorkspace('corral-verdict-ws-'));
    env = {
      CORRAL_CONFIG: join(dir, 'config.yaml'),
      CORRAL_CACHE_DIR: join(dir, 'cache'),
      CORRAL_DATA_DIR: join(dir, 'data'),
      CORRAL_ENGINE: '',
    };
    await writeFile(join(dir, 'config.yaml'), 'limits:\n  pids: 2048\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(ws, { recursive: true, force: true });
  });

  it('validates once, then answers from the verdict for the same layers', async () => {
    const first = await show();
    expect(first.code, first.stderr).toBe(0);
    expect(first.config.limits.pids).toBe(2048);
    const stored = JSON.parse(await readFile(verdict(), 'utf8'));
    expect(stored.config.limits.pids).toBe(2048);
    // Proof that the verdict is what answers: a value only the verdict holds comes back.
    stored.config.limits.pids = 1234;
    await writeFile(verdict(), JSON.stringify(stored));
    expect((await show()).config.limits.pids).toBe(1234);
  });

  it('validates again when the file changes', async () => {
    await writeFile(join(dir, 'config.yaml'), 'limits:\n  pids: 3000\n');
    expect((await show()).config.limits.pids).toBe(3000);
  });

  it('validates again when CORRAL_* changes, and refuses a bad value whatever was remembered', async () => {
    expect((await show({ CORRAL_PIDS_LIMIT: '77' })).config.limits.pids).toBe(77);
    const bad = await show({ CORRAL_PIDS_LIMIT: '0' });
    expect(bad.code).toBe(1);
    expect(bad.error).toContain('limits.pids');
  });

  it('refuses an invalid file after a valid one was remembered', async () => {
    expect((await show()).code).toBe(0);
    await writeFile(join(dir, 'config.yaml'), 'limits:\n  pids: -3\n');
    const r = await show();
    expect(r.code).toBe(1);
    expect(r.error).toContain(join(dir, 'config.yaml'));
  });

  it('validates again when the project file changes', async () => {
    await writeFile(join(dir, 'config.yaml'), 'limits:\n  pids: 2048\n');
    expect((await show()).code).toBe(0);
    // Untrusted, so its network key is dropped; still validated whole.
    await writeFile(join(ws, '.corral.yaml'), 'network: sideways\n');
    const r = await show();
    expect(r.code).toBe(1);
    expect(r.error).toContain('.corral.yaml');
  });

  it('remembers several: runs alternating between two configs each answer from their own verdict', async () => {
    await rm(join(ws, '.corral.yaml'), { force: true });
    await writeFile(join(dir, 'config.yaml'), 'limits:\n  pids: 2500\n');
    expect((await show()).config.limits.pids).toBe(2500);
    expect((await show({ CORRAL_PIDS_LIMIT: '77' })).config.limits.pids).toBe(77);
    const stored = JSON.parse(await readFile(verdict(), 'utf8'));
    expect(stored.config.limits.pids).toBe(77);
    // The first config's verdict is an earlier one now; a value only it holds comes back.
    const first = stored.earlier.find(
      (v: { config: { limits: { pids: number } } }) => v.config.limits.pids === 2500,
    );
    first.config.limits.pids = 1234;
    await writeFile(verdict(), JSON.stringify(stored));
    expect((await show()).config.limits.pids).toBe(1234);
    expect((await show({ CORRAL_PIDS_LIMIT: '77' })).config.limits.pids).toBe(77);
  });
});
