import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, origins } from '../../src/config/load.js';
import { isTrusted, restrictUntrusted, trustWorkspace, untrustWorkspace } from '../../src/config/trust.js';
import { CorralError } from '../../src/errors.js';
import { parseMount } from '../../src/sandbox/mounts.js';

describe('untrusted project config', () => {
  it('keeps the safe subset and names what it skipped', () => {
    const { safe, skipped } = restrictUntrusted({
      default_agent: 'claude',
      mounts: ['~/.ssh:/ssh'],
      env: ['HOME_TOKEN', 'MODE=fast'],
      base_image: 'evil/base',
      agents: { claude: { image: 'evil/claude', env: ['AWS_SECRET_ACCESS_KEY'], yolo: true } },
    });
    expect(safe).toEqual({
      default_agent: 'claude',
      env: ['MODE=fast'],
      agents: { claude: { env: [], yolo: true } },
    });
    expect(skipped).toEqual([
      'mounts',
      'env (copies host HOME_TOKEN)',
      'base_image',
      'agents.claude.image',
      'agents.claude.env (copies host AWS_SECRET_ACCESS_KEY)',
    ]);
  });

  it('is trusted only with the exact content that was trusted', async () => {
    const store = join(await mkdtemp(join(tmpdir(), 'corral-trust-')), 'trust.json');
    expect(await isTrusted('/w', 'a: 1\n', store)).toBe(false);
    await trustWorkspace('/w', 'a: 1\n', store);
    expect(await isTrusted('/w', 'a: 1\n', store)).toBe(true);
    expect(await isTrusted('/w', 'a: 2\n', store)).toBe(false);
    expect(await isTrusted('/other', 'a: 1\n', store)).toBe(false);
    expect(await untrustWorkspace('/w', store)).toBe(true);
    expect(await isTrusted('/w', 'a: 1\n', store)).toBe(false);
  });

  it('layers defaults < global < project < env and reports origins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-proj-'));
    await writeFile(join(dir, 'global.yaml'), 'auto_pull: true\nlimits: {pids: 100}\n');
    await writeFile(join(dir, '.corral.yaml'), 'limits: {pids: 200}\ndefault_agent: codex\nmounts: [/tmp]\n');
    const loaded = await loadConfig({
      path: join(dir, 'global.yaml'),
      workspace: dir,
      env: { CORRAL_MEMORY: '1g', CORRAL_DATA_DIR: dir },
    });
    expect(loaded.config.limits).toEqual({ pids: 200, memory: '1g' });
    expect(loaded.config.mounts).toBeUndefined(); // untrusted
    expect(loaded.project).toMatchObject({ trusted: false, skipped: ['mounts'] });
    const from = origins(loaded.layers, loaded.config as never);
    expect(from['limits.pids']).toBe(join(dir, '.corral.yaml'));
    expect(from['limits.memory']).toBe('environment (CORRAL_*)');
    expect(from.auto_pull).toBe(join(dir, 'global.yaml'));
    expect(from.host_ca).toBe('default');
  });

  it('validates the project file and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-proj-'));
    await writeFile(join(dir, '.corral.yaml'), 'agnets: {}\n');
    const err = await loadConfig({ path: '/nonexistent.yaml', workspace: dir, env: {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorralError);
    expect((err as Error).message).toContain(join(dir, '.corral.yaml'));
    expect((err as Error).message).toContain('agnets');
  });
});

describe('mounts', () => {
  it('parses HOST[:SANDBOX][:rw], read-only by default', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'corral-mnt-'));
    await mkdir(join(ws, 'data'));
    expect(parseMount('data:/mnt/d', { workspace: ws })).toEqual({
      type: 'bind',
      source: join(ws, 'data'),
      target: '/mnt/d',
      readOnly: true,
    });
    expect(parseMount(`${ws}/data:/mnt/d:rw`, { workspace: ws }).readOnly).toBe(false);
    expect(parseMount(`${ws}/data`, { workspace: ws }).target).toBe(join(ws, 'data'));
  });

  it('refuses /, home, engine sockets, credential stores and shadowing targets', async () => {
    const home = await mkdtemp(join(tmpdir(), 'corral-home-'));
    await mkdir(join(home, '.ssh'));
    await mkdir(join(home, 'proj'));
    const ctx = { workspace: home, home };
    expect(() => parseMount('/', ctx)).toThrow(/whole host/);
    expect(() => parseMount('~', ctx)).toThrow(/whole home/);
    expect(() => parseMount('/run', ctx)).toThrow(/container engine/); // it holds the engine sockets
    if (existsSync('/var/run/docker.sock'))
      expect(() => parseMount('/var/run/docker.sock:/d', ctx)).toThrow(/container engine/);
    expect(() => parseMount('~/.ssh:/ssh', ctx)).toThrow(/credentials live[\s\S]*/);
    expect(parseMount('~/.ssh:/ssh', { ...ctx, allowSensitive: true }).source).toBe(join(home, '.ssh'));
    expect(() => parseMount('~/proj:/workspace/x', ctx)).toThrow(/shadow/);
    expect(() => parseMount('~/proj:relative', ctx)).toThrow(/absolute/);
    expect(() => parseMount('~/missing:/m', ctx)).toThrow(/does not exist/);
    expect(() => parseMount('a:b:c:d', ctx)).toThrow(/Invalid mount/);
  });
});
