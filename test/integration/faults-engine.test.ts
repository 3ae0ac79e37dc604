/**
 * Faults survived: the engine service restarted under a detached run, on both engines, each on a
 * private service of its own (the machine's shared ones, and the tests on them, untouched):
 *
 * - Podman (a private `podman system service`; its containers outlive the service): while it is
 *   down corral says no engine answers, and once it is back the same sandbox is reached, its
 *   gateway still serves it, and its bridge process (which lost its wait on the sandbox) still ends
 *   with it.
 * - Docker (a private dockerd, see helpers/private-dockerd.ts, reached through DOCKER_HOST): the
 *   same message while it is down. Docker stops its containers when it stops (and, with
 *   live-restore, Docker before 24.0.8 still removes `--rm` ones when it starts again: moby#46308),
 *   so the run's sandbox does not come back: its bridge process says so and ends instead of waiting
 *   forever, nothing of the run is left behind, and the next run in the workspace works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import {
  alive,
  bridgeLogs,
  bridgePidOf,
  detachedRun,
  ENGINE_GONE,
  fetchCmd,
  run,
  STACK,
  sleep,
  until,
  upstreamServer,
} from '../helpers/faults.js';
import {
  type PrivateDockerd,
  privateDockerd,
  privateDockerdUnavailable,
} from '../helpers/private-dockerd.js';

describe('the engine service restarted mid-run, on Podman', () => {
  const podman = TEST_ENGINES.includes('podman');
  let dir: string;
  let socket: string;
  let service: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let upstream: Server;
  let port: number;
  const startService = async () => {
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
    const ping = async () =>
      (await run('curl', ['-s', '--unix-socket', socket, 'http://d/_ping']).catch(() => ({ stdout: '' })))
        .stdout === 'OK';
    if (!(await until(ping, 20_000))) throw new Error('the private Podman service did not start');
  };
  /** corral on the private service: `--engine <socket>` (the config's `engine` names a kind only). */
  const cli = (args: string[]) => corral(['--engine', `unix://${socket}`, ...args], { cwd: dir, env });
  const stopService = async () => {
    const s = service;
    service = undefined;
    if (!s || s.exitCode !== null) return;
    s.kill('SIGKILL');
    await new Promise((r) => s.once('exit', r));
  };

  beforeAll(async () => {
    if (!podman) return;
    const engine = await engineFor('podman');
    await agentImage(engine, 'claude');
    await gatewayImage(engine);
    dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-engine-restart-')));
    socket = join(dir, 'podman.sock');
    ({ server: upstream, port } = await upstreamServer());
    await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
    env = {
      CORRAL_CONFIG: join(dir, 'config.yaml'),
      CORRAL_DATA_DIR: join(dir, 'data'),
      CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
    };
    await startService();
  }, 600_000);

  afterAll(async () => {
    if (!podman || !dir) return;
    if (!service) await startService().catch(() => {});
    await cli(['clean']).catch(() => {});
    await stopService();
    upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!podman)(
    'says the engine is gone, and carries on once it is back',
    async () => {
      const name = `corral-faults-engine-${process.pid}`;
      const d = await cli(detachedRun(name, port));
      expect(d.code, d.stderr).toBe(0);
      const fetch = () => cli(['exec', name, '--', ...fetchCmd('host.containers.internal', port)]);
      expect((await fetch()).stdout).toBe('upstream-ok 200');
      const bridgePid = await bridgePidOf(env.CORRAL_DATA_DIR!);
      expect(bridgePid).toBeDefined();

      await stopService();
      const down = await cli(['exec', name, '--', 'echo', 'hi']);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(ENGINE_GONE);
      expect(down.stderr).not.toMatch(STACK);
      // The sandbox and its gateway run on without the service: traffic still flows.
      const direct = await run('podman', [
        'exec',
        name,
        'sh',
        '-c',
        `curl -s http://host.containers.internal:${port}/`,
      ]);
      expect(direct.stdout).toBe('upstream-ok');

      await startService();
      expect((await fetch()).stdout).toBe('upstream-ok 200');
      expect(await bridgeLogs(env.CORRAL_DATA_DIR!)).toMatch(/waiting on the container failed .*; retrying/);
      const stop = await cli(['stop', name]);
      expect(stop.code, stop.stderr).toBe(0);
      // The bridge process's wait reconnected: it ends with the sandbox.
      expect(await until(() => !alive(bridgePid!), 20_000), 'the bridge process outlived its sandbox').toBe(
        true,
      );
    },
    300_000,
  );
});

describe('the engine service restarted mid-run, on Docker', () => {
  const wanted = TEST_ENGINES.includes('docker');
  let unavailable: string | undefined;
  let dockerd: PrivateDockerd | undefined;
  let dir: string;
  let wsId: string;
  let env: NodeJS.ProcessEnv;
  let upstream: Server | undefined;
  let port: number;
  const cli = (args: string[]) => corral(args, { cwd: dir, env });
  let bridgesBefore: string[] = [];
  const sharedBridges = async () =>
    (await run('ip', ['-br', 'link', 'show', 'type', 'bridge'])).stdout
      .split('\n')
      .map((l) => l.split(/\s+/)[0]!)
      // docker0 only: Podman 4.3's netavark makes podman0 when a container joins its network and
      // removes it when the last one leaves, so its presence says nothing about this test.
      .filter((n) => n === 'docker0');

  beforeAll(async () => {
    if (!wanted) return;
    unavailable = await privateDockerdUnavailable();
    if (unavailable) {
      console.log(`skipped on docker: ${unavailable}`);
      return;
    }
    // The images come from the shared dockerd (built there once, as every suite does).
    const shared = await engineFor('docker');
    const images = [await agentImage(shared, 'claude'), await gatewayImage(shared)];
    bridgesBefore = await sharedBridges();
    dockerd = await privateDockerd();
    await dockerd.start();
    await dockerd.loadImages(images);
    // Short: the run's bridge socket lives under it, and a Unix socket path has ~107 bytes.
    dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-erd-')));
    wsId = workspaceIdOf(dir);
    ({ server: upstream, port } = await upstreamServer());
    await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
    env = {
      // As a user points corral at a Docker of their choosing.
      CORRAL_ENGINE: 'docker',
      DOCKER_HOST: dockerd.host,
      CORRAL_CONFIG: join(dir, 'config.yaml'),
      CORRAL_DATA_DIR: join(dir, 'data'),
      CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
    };
  }, 900_000);

  afterAll(async () => {
    upstream?.close();
    if (!dockerd) return;
    if (dir) await cli(['clean']).catch(() => {});
    await dockerd.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
    // Nothing of the private daemon is left: processes, mounts, namespace, interfaces, files.
    expect(await dockerd.leftovers()).toEqual([]);
    // And the shared engines' default bridges were never touched (a dockerd on the host's own
    // network stack deletes `docker0` when it restarts: see the helper).
    expect(await sharedBridges()).toEqual(bridgesBefore);
  }, 120_000);

  /** Whether this Docker keeps `--rm` containers through a live-restore restart (moby#46308, fixed in 24.0.8). */
  const keepsRmContainers = async () => {
    const v = (await dockerd!.docker(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
    const [major = 0, minor = 0, patch = 0] = v.split(/[.+~-]/).map(Number);
    return major > 24 || (major === 24 && (minor > 0 || patch >= 8));
  };

  /** What this workspace still has on the private daemon. */
  const leftovers = async () => {
    const ls = async (what: string[], field = '{{.Name}}') =>
      (
        await dockerd!.docker([...what, '--filter', `label=io.corral.workspace=${wsId}`, '--format', field])
      ).stdout
        .split('\n')
        .filter(Boolean);
    return [
      ...(await ls(['ps', '-a'], '{{.Names}}')),
      ...(await ls(['network', 'ls'])),
      ...(await ls(['volume', 'ls'])),
    ];
  };

  /**
   * Start a detached run, take the daemon away with `signal`, check what corral says meanwhile,
   * bring it back (with live-restore or not), and check the run's end is said and the next run works.
   */
  const restartCase = async (signal: 'SIGTERM' | 'SIGKILL', liveRestore: boolean) => {
    const d = dockerd!;
    await d.stop();
    await d.start({ liveRestore });
    const name = `corral-faults-engine-${process.pid}-${liveRestore ? 'live' : 'plain'}`;
    const started = await cli(detachedRun(name, port));
    expect(started.code, started.stderr).toBe(0);
    const fetch = () => cli(['exec', name, '--', ...fetchCmd('host.docker.internal', port)]);
    expect((await fetch()).stdout).toBe('upstream-ok 200');
    const bridgePid = await bridgePidOf(env.CORRAL_DATA_DIR!);
    expect(bridgePid).toBeDefined();
    const gatewayId = (await d.docker(['inspect', '-f', '{{.Id}}', `corral-${wsId}-gateway`])).stdout.trim();

    await d.stop(signal);
    const down = await cli(['exec', name, '--', 'echo', 'hi']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(ENGINE_GONE);
    expect(down.stderr).not.toMatch(STACK);
    // Let the bridge process see the engine gone before it comes back.
    await sleep(3000);

    await d.start({ liveRestore });
    if (liveRestore) {
      // live-restore kept the gateway (no --rm) running through the restart.
      const gw = (await d.docker(['inspect', '-f', '{{.Id}} {{.State.Running}}', `corral-${wsId}-gateway`]))
        .stdout;
      expect(gw.trim()).toBe(`${gatewayId} true`);
    }
    if (liveRestore && (await keepsRmContainers())) {
      // Docker 24.0.8 and later keep `--rm` containers through a live-restore restart: as on Podman.
      expect((await fetch()).stdout).toBe('upstream-ok 200');
      expect((await cli(['stop', name])).code).toBe(0);
      expect(await until(() => !alive(bridgePid!), 30_000), 'the bridge process outlived its sandbox').toBe(
        true,
      );
      return;
    }
    // The sandbox did not come back, corral says so plainly, and its bridge process ends with it.
    const gone = await cli(['exec', name, '--', 'echo', 'hi']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/^corral: No corral sandbox named/m);
    expect(gone.stderr).not.toMatch(STACK);
    expect(await until(() => !alive(bridgePid!), 30_000), 'the bridge process outlived its sandbox').toBe(
      true,
    );
    const logs = await bridgeLogs(env.CORRAL_DATA_DIR!);
    if (signal === 'SIGKILL')
      // The daemon crashed under a running sandbox: the bridge waited through the outage, then said why it ended.
      expect(logs).toMatch(/corral: the container engine came back without the sandbox/);
    expect(logs).toMatch(/ending: (container exited|sandbox lost in an engine restart)/);

    // Recovered: the next run in the workspace works, through the gateway, and clean leaves nothing.
    const next = await cli([
      'shell',
      'claude',
      '--no-join',
      '--allow-host',
      String(port),
      '--',
      ...fetchCmd('host.docker.internal', port),
    ]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toBe('upstream-ok 200');
    const clean = await cli(['clean']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
    expect(alive(bridgePid!)).toBe(false);
  };

  it.skipIf(!wanted)(
    'restarted as `systemctl restart docker` does (SIGTERM, no live-restore): says so, and the next run works',
    async (ctx) => {
      if (unavailable) return ctx.skip();
      await restartCase('SIGTERM', false);
    },
    300_000,
  );

  it.skipIf(!wanted)(
    'crashed (SIGKILL) under live-restore: the gateway lives on, the lost sandbox is said, and the next run works',
    async (ctx) => {
      if (unavailable) return ctx.skip();
      await restartCase('SIGKILL', true);
    },
    300_000,
  );
});
