import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-table.js';
import { buildProgram, expandShortcut } from '../../src/cli/main.js';
import { sandboxModelUrl } from '../../src/core/start/support.js';
import { candidates, noEngineError, onPath, transportFromUrl } from '../../src/engine/detect.js';
import { CorralError } from '../../src/errors.js';

describe('shortcuts', () => {
  // expandShortcut loads the core (to look up agents) on first use: loaded here, not in a test's time.
  beforeAll(async () => {
    await import('../../src/core/index.js');
  }, 60_000);
  it.each([
    [['c'], ['run', 'c']],
    [
      ['c', '--yolo', '--', '-p', 'hi'],
      ['run', 'c', '--yolo', '--', '-p', 'hi'],
    ],
    [
      ['--engine', 'docker', 'x'],
      ['--engine', 'docker', 'run', 'x'],
    ],
    [['vibe'], ['run', 'vibe']],
    [['list'], ['list']],
    [
      ['shell', 'c'],
      ['shell', 'c'],
    ],
    [
      ['--engine', 'podman', 'list'],
      ['--engine', 'podman', 'list'],
    ],
    [['nonsense'], ['nonsense']],
    [['ls'], ['ls']],
    [['ssh-config'], ['ssh-config']],
  ])('%j → %j', async (args, expected) => {
    expect(await expandShortcut(args)).toEqual(expected);
  });

  it("knows every command's name and aliases without loading it (the table matches the commands)", async () => {
    const program = await buildProgram();
    expect(program.commands.map((c) => [c.name(), ...c.aliases()])).toEqual(COMMANDS.map((c) => c.names));
    // The hidden one is there too, and hidden.
    expect(COMMANDS.filter((c) => c.hidden).map((c) => c.names[0])).toEqual(['bridge']);
  });
});

describe('model URL inside the sandbox', () => {
  it('rewrites loopback to the engine’s host alias and leaves other hosts alone', () => {
    expect(sandboxModelUrl('http://127.0.0.1:8080/', 'host.containers.internal')).toBe(
      'http://host.containers.internal:8080',
    );
    expect(sandboxModelUrl('http://localhost:9/v1', 'host.docker.internal')).toBe(
      'http://host.docker.internal:9/v1',
    );
    expect(sandboxModelUrl('https://api.example.com', 'h')).toBe('https://api.example.com');
    expect(() => sandboxModelUrl('not a url', 'h')).toThrow(CorralError);
  });
});

describe('engine detection order', () => {
  const which = () => true;
  it('tries DOCKER_HOST, rootless Podman, rootful Podman, then Docker', () => {
    const list = candidates({
      env: { DOCKER_HOST: 'unix:///x.sock', XDG_RUNTIME_DIR: '/run/user/1000' },
      uid: 1000,
      which,
    });
    expect(list.map((c) => c.source)).toEqual(['DOCKER_HOST', 'rootless podman', 'rootful podman', 'docker']);
    expect(list[1]!.endpoint).toBe('unix:///run/user/1000/podman/podman.sock');
  });

  it('honours --engine / CORRAL_ENGINE first', () => {
    expect(candidates({ env: { CORRAL_ENGINE: 'docker' }, uid: 0, which }).map((c) => c.source)).toEqual([
      'docker',
    ]);
    expect(candidates({ env: {}, uid: 0, which }, 'podman').map((c) => c.source)).toEqual(['rootful podman']);
    expect(candidates({ env: {}, uid: 0, which }, 'unix:///tmp/e.sock')[0]!.transport).toEqual({
      socketPath: '/tmp/e.sock',
    });
    expect(() => candidates({ env: {}, uid: 0, which }, 'lxc')).toThrow(/Unknown engine "lxc"/);
  });

  it('offers to start Podman only where it may (root for the rootful socket)', () => {
    const user = candidates({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000, which });
    expect(user.find((c) => c.source === 'rootless podman')!.start).toBeDefined();
    expect(user.find((c) => c.source === 'rootful podman')!.start).toBeUndefined();
    const none = candidates({ env: {}, uid: 0, which: () => false });
    expect(none.every((c) => !c.start)).toBe(true);
  });

  it('says how to install an engine when none answers', () => {
    const err = noEngineError(candidates({ env: {}, uid: 0, which }));
    expect(err.code).toBe('ENGINE_NOT_FOUND');
    expect(err.message).toContain('/run/podman/podman.sock');
    expect(err.hint).toMatch(/apt-get install -y podman/);
    expect(err.hint).toMatch(/docker\.io/);
  });

  it('names a configured endpoint that does not answer, instead of suggesting an install', () => {
    const dockerHost = noEngineError(
      candidates({ env: { DOCKER_HOST: 'unix:///srv/d.sock' }, uid: 0, which }),
    );
    expect(dockerHost.code).toBe('ENGINE_NOT_FOUND');
    expect(dockerHost.hint).toContain('DOCKER_HOST is set to unix:///srv/d.sock');
    expect(dockerHost.hint).toMatch(/daemon is not answering: start it/);
    expect(dockerHost.hint).toMatch(/unset it/);
    expect(dockerHost.hint).not.toMatch(/apt-get install/);

    const containerHost = noEngineError(
      candidates({ env: { CONTAINER_HOST: 'unix:///run/user/7/podman/podman.sock' }, uid: 7, which }),
    );
    expect(containerHost.hint).toContain('CONTAINER_HOST is set to unix:///run/user/7/podman/podman.sock');
    expect(containerHost.hint).toContain(
      'podman system service --time=0 unix:///run/user/7/podman/podman.sock',
    );

    const viaEnv = noEngineError(
      candidates({ env: { CORRAL_ENGINE: 'tcp://127.0.0.1:2375' }, uid: 0, which }),
    );
    expect(viaEnv.message).toContain('CORRAL_ENGINE at tcp://127.0.0.1:2375');
    expect(viaEnv.hint).toContain('CORRAL_ENGINE is set to tcp://127.0.0.1:2375');
    const viaFlag = noEngineError(candidates({ env: {}, uid: 0, which }, '/tmp/e.sock'));
    expect(viaFlag.hint).toMatch(/^--engine \/tmp\/e\.sock names an engine whose daemon is not answering/);
    expect(viaFlag.hint).toContain('pass another --engine');

    const viaConfig = noEngineError(
      candidates({ env: {}, uid: 0, which }, 'tcp://127.0.0.1:1', 'the engine setting in /c.yaml'),
    );
    expect(viaConfig.message).toContain('the engine setting in /c.yaml at tcp://127.0.0.1:1');
    expect(viaConfig.hint).toMatch(/not answering: start it .*change that setting\.$/);

    // Nothing named: how to get an engine.
    expect(noEngineError(candidates({ env: {}, uid: 0, which })).hint).toMatch(/apt-get install -y podman/);
  });

  it("honours Podman's CONTAINER_HOST after DOCKER_HOST, and alone with --engine podman", () => {
    const env = { DOCKER_HOST: 'unix:///d.sock', CONTAINER_HOST: 'unix:///p.sock' };
    expect(candidates({ env, uid: 0, which }).map((c) => c.source)).toEqual([
      'DOCKER_HOST',
      'CONTAINER_HOST',
      'rootful podman',
      'docker',
    ]);
    const [only, ...rest] = candidates({ env, uid: 0, which }, 'podman');
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      source: 'CONTAINER_HOST',
      kind: 'podman',
      transport: { socketPath: '/p.sock' },
    });
    const [ssh] = candidates({
      env: { CONTAINER_HOST: 'ssh://me@box/run/podman/podman.sock' },
      uid: 0,
      which,
    });
    expect(ssh).toMatchObject({ ssh: { url: 'ssh://me@box/run/podman/podman.sock', kind: 'podman' } });
  });

  it('parses engine URLs', () => {
    expect(transportFromUrl('tcp://10.0.0.2:2375')).toEqual({ host: '10.0.0.2', port: 2375 });
    expect(transportFromUrl('/var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
  });

  it('finds a program on PATH only as an executable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-path-'));
    writeFileSync(join(dir, 'runnable'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'plain'), 'x', { mode: 0o644 });
    mkdirSync(join(dir, 'folder'));
    const path = ['/nonexistent', dir].join(delimiter);
    expect(onPath('runnable', path)).toBe(true);
    expect(onPath('plain', path)).toBe(false);
    expect(onPath('folder', path)).toBe(false);
    expect(onPath('runnable', '')).toBe(false);
    rmSync(dir, { recursive: true });
  });
});
