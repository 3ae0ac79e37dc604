/**
 * `corral clean` forgets the workspace's ended bridge sessions (state and log). A session whose
 * recorded pid now belongs to another process (pids are reused over hundreds of runs: bench/soak
 * found two such sessions left behind) is forgotten too; other workspaces' sessions stay.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bridgeAlive,
  bridgeLogPath,
  bridgeStatePath,
  forgetWorkspaceSessions,
  writeBridgeState,
} from '../../src/bridge/session-state.js';

describe('forgetWorkspaceSessions', () => {
  let dir: string;
  const prev = process.env.CORRAL_DATA_DIR;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corral-forget-'));
    process.env.CORRAL_DATA_DIR = dir;
  });
  afterEach(async () => {
    process.env.CORRAL_DATA_DIR = prev;
    await rm(dir, { recursive: true, force: true });
  });

  const session = async (id: string, workspace: string, pid?: number) => {
    await writeBridgeState({
      session: id,
      workspace,
      agent: 'claude',
      container: `c-${id}`,
      ...(pid ? { pid } : {}),
      ended: Date.now(),
    });
    await writeFile(bridgeLogPath(id), 'log\n');
  };

  it("forgets this workspace's ended sessions, even when their pid was reused, and keeps the others", async () => {
    await session('aaa111', '/ws/one');
    // This test's own pid: alive, but not a bridge process.
    await session('bbb222', '/ws/one', process.pid);
    await session('ccc333', '/ws/two');
    const started = Date.now();
    expect((await forgetWorkspaceSessions('/ws/one')).sort()).toEqual(['aaa111', 'bbb222']);
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const id of ['aaa111', 'bbb222']) {
      expect(existsSync(bridgeStatePath(id))).toBe(false);
      expect(existsSync(bridgeLogPath(id))).toBe(false);
    }
    expect(existsSync(bridgeStatePath('ccc333'))).toBe(true);
    expect(existsSync(bridgeLogPath('ccc333'))).toBe(true);
  });

  it('a session the daemon serves is live only while it is not ended and its pid is a corral daemon', async () => {
    const base = { session: 'ddd444', workspace: '/ws/one', agent: 'claude', container: 'c' };
    // This test's pid is alive but not a daemon (a daemon that died, its pid reused): down.
    expect(bridgeAlive({ ...base, host: 'daemon', pid: process.pid })).toBe(false);
    expect(bridgeAlive({ ...base, host: 'daemon', pid: process.pid, ended: Date.now() })).toBe(false);
    expect(bridgeAlive({ ...base, host: 'daemon' })).toBe(false);
    // Not ended and no daemon: `corral clean` forgets it without waiting.
    await writeBridgeState({ ...base, host: 'daemon', pid: process.pid });
    const started = Date.now();
    expect(await forgetWorkspaceSessions('/ws/one')).toEqual(['ddd444']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
