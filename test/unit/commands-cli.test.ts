/**
 * `corral commands` against a real CommandStore (the bridge's), as a second terminal would use it:
 * list shows liveness, logs reads the output files without following links the agent planted, and
 * kill stops the process group, which the owning bridge then records as killed. The registry never
 * signals a pid that now belongs to another process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommandStore } from '../../src/bridge/commands.js';
import { killRunning, listRunning, processStart } from '../../src/bridge/registry.js';
import { corral } from '../helpers/cli.js';

let ws: string;
let data: string;
let store: CommandStore;
const env = () => ({ CORRAL_DATA_DIR: data });

beforeAll(async () => {
  ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-cmds-ws-')));
  data = await mkdtemp(join(tmpdir(), 'corral-cmds-data-'));
  vi.stubEnv('CORRAL_DATA_DIR', data);
  store = new CommandStore({ workspace: ws, session: 'sessA', killGraceMs: 2000 });
});

afterAll(async () => {
  await store.stopAll();
  await rm(ws, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
});

describe('corral commands', () => {
  it('lists, prints output and kills a running command from another process', async () => {
    const done = await store.start('echo finished-output');
    await store.wait(done.id, 5000);
    const long = await store.start('echo started-output; exec sleep 60');
    await new Promise((r) => setTimeout(r, 300));

    const listed = await corral(['commands', 'list', '--json', '-w', ws], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as {
      id: string;
      state: string;
      pid?: number;
      exitCode?: number;
    }[];
    expect(rows.find((r) => r.id === done.id)).toMatchObject({ state: 'finished', exitCode: 0 });
    expect(rows.find((r) => r.id === long.id)).toMatchObject({ state: 'running' });
    expect(rows.find((r) => r.id === long.id)?.pid).toBeGreaterThan(0);

    const logs = await corral(['commands', 'logs', long.id, '-w', ws], { env: env() });
    expect(logs.stdout).toBe('started-output\n');

    const killed = await corral(['commands', 'kill', long.id, '-w', ws], { env: env() });
    expect(killed.code).toBe(0);
    expect(killed.stderr).toContain(`killed ${long.id}`);
    await store.wait(long.id, 5000);
    expect((await store.status(long.id)).state).toBe('killed');
    expect(await readFile(join(ws, long.dir, 'exit'), 'utf8')).toBe('killed\n');

    const again = await corral(['commands', 'kill', long.id, '-w', ws], { env: env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not running');
    const text = await corral(['commands', 'list', '-w', ws], { env: env() });
    expect(text.stdout).toMatch(new RegExp(`${long.id} +sessA +killed +echo started-output`));
    // Five CLI processes (~1 s each on a loaded 2-core machine): the default 5 s was too tight.
  }, 30_000);

  it('does not follow a link the agent planted in place of an output file', async () => {
    const c = await store.start('echo mine');
    await store.wait(c.id, 5000);
    const secret = join(data, 'host-secret.txt');
    await writeFile(secret, 'host-only-content\n');
    await rm(join(ws, c.dir, 'stdout'));
    await symlink(secret, join(ws, c.dir, 'stdout'));
    const logs = await corral(['commands', 'logs', c.id, '-w', ws], { env: env() });
    // It found the command (exit 0) and printed nothing through the link.
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).not.toContain('host-only-content');
  });

  it('names an unknown id clearly', async () => {
    const r = await corral(['commands', 'logs', 'ffffffff', '-w', ws], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No command ffffffff in this workspace');
  });
});

describe('the running-command registry', () => {
  it('never signals a pid whose process is not the one recorded', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    expect(processStart(pid)).toMatch(/^\d+$/);
    const forged = { session: 's', id: 'i', pid, start: '1', workspace: ws, command: 'x', startedAt: '' };
    expect(await killRunning(forged, 100)).toBe(false);
    expect(() => process.kill(pid, 0)).not.toThrow();
    const exited = new Promise((r) => child.once('exit', r));
    const real = { ...forged, start: processStart(pid)! };
    expect(await killRunning(real, 2000)).toBe(true);
    await exited;
    expect(await listRunning(ws)).toEqual([]);
  });
});
