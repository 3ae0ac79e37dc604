import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { keysAt } from '../../src/config/errors.js';
import { envLayer, loadConfig, mergeLayers, parseSize } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { CorralError } from '../../src/errors.js';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-config-'));
  const path = join(dir, 'config.yaml');
  await writeFile(path, text);
  return path;
}

async function loadError(text: string, env: NodeJS.ProcessEnv = {}): Promise<CorralError> {
  const path = await configFile(text);
  const err = await loadConfig({ path, env }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CorralError);
  return err as CorralError;
}

describe('config', () => {
  it('spells out the schema defaults exactly', () => {
    expect(DEFAULT_CONFIG).toEqual(ConfigSchema.parse({}));
  });

  it('has defaults when no file exists', async () => {
    const { config } = await loadConfig({ path: '/nonexistent/corral.yaml', env: {} });
    expect(config.auto_remove).toBe(true);
    expect(config.auto_pull).toBe(false);
    expect(config.host_ca).toBe('auto');
    expect(config.limits).toEqual({ pids: 4096, memory: '8g' });
    expect(config.agents).toEqual({});
  });

  it('merges defaults < file < env < flags', async () => {
    const path = await configFile(
      'auto_pull: true\nlimits:\n  pids: 100\nagents:\n  claude:\n    version: 2.0.0\n    env: {A: "1"}\n',
    );
    const { config } = await loadConfig({
      path,
      env: { CORRAL_PIDS_LIMIT: '200', CORRAL_AUTO_REMOVE: 'false' },
      overrides: { engine: 'docker' },
    });
    expect(config.auto_pull).toBe(true);
    expect(config.limits.pids).toBe(200);
    expect(config.limits.memory).toBe('8g');
    expect(config.auto_remove).toBe(false);
    expect(config.engine).toBe('docker');
    expect(config.agents.claude).toEqual({ version: '2.0.0', env: { A: '1' } });
  });

  it('names the file, the key path and the accepted keys for an unknown key', async () => {
    const err = await loadError('agents:\n  claude:\n    versoin: 1.0.0\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('config.yaml');
    expect(err.message).toContain('agents.claude.versoin');
    expect(err.message).toMatch(/expected one of: version, image, auto_pull/);
  });

  it('names key and expected type for a wrong type', async () => {
    const err = await loadError('limits:\n  pids: lots\n');
    expect(err.message).toMatch(/limits\.pids: .*number/i);
  });

  it('rejects a bad size and a bad engine', async () => {
    expect((await loadError('limits: {memory: huge}\n')).message).toMatch(/limits\.memory/);
    expect((await loadError('engine: lxc\n')).message).toMatch(/engine: .*"podman"/);
  });

  it('takes an engine socket in CORRAL_ENGINE and the file, as --engine does', async () => {
    for (const engine of ['unix:///run/podman/podman.sock', 'tcp://127.0.0.1:2375', '/var/run/docker.sock']) {
      const { config } = await loadConfig({
        path: '/nonexistent/corral.yaml',
        env: { CORRAL_ENGINE: engine },
      });
      expect(config.engine).toBe(engine);
    }
    expect((await loadError('engine: unix://relative.sock\n')).message).toMatch(/engine: .*socket/);
  });

  it('reports invalid YAML with the file name', async () => {
    const err = await loadError('agents: [\n');
    expect(err.message).toMatch(/Invalid YAML in .*config\.yaml/);
  });

  it('names the env var for a bad env value', async () => {
    const err = await loadError('', { CORRAL_AUTO_PULL: 'maybe' });
    expect(err.message).toContain('CORRAL_AUTO_PULL');
    expect(err.message).toContain('true or false');
  });

  it('maps env vars onto nested keys', () => {
    expect(envLayer({ CORRAL_MEMORY: '2g', CORRAL_ENGINE: 'podman', UNRELATED: 'x' })).toEqual({
      limits: { memory: '2g' },
      engine: 'podman',
    });
    // Empty clears a string or number; for a boolean it is a value (false).
    expect(envLayer({ CORRAL_ENGINE: '', CORRAL_PIDS_LIMIT: '', CORRAL_AUTO_PULL: '' })).toEqual({
      auto_pull: false,
    });
  });

  it('deep-merges objects and replaces arrays', () => {
    expect(mergeLayers({ a: { b: 1, c: [1] } }, { a: { c: [2], d: 2 } })).toEqual({
      a: { b: 1, c: [2], d: 2 },
    });
  });

  it('parses sizes', () => {
    expect(parseSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseSize('8g')).toBe(8 * 1024 ** 3);
    expect(parseSize(1000)).toBe(1000);
    expect(() => parseSize('lots')).toThrow(CorralError);
  });

  it('finds accepted keys through records and defaults', () => {
    expect(keysAt(ConfigSchema, ['limits'])).toEqual(['pids', 'memory']);
    expect(keysAt(ConfigSchema, ['agents', 'claude'])).toContain('init');
  });
});
