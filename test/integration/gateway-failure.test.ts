/**
 * An attached sandbox is created, and started, while the workspace's new gateway comes up. When
 * the gateway then fails, the run must end with the gateway's error, stop the sandbox and leave
 * none behind, and not hang on the attach it opened.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveWorkspace } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`a gateway failing to start on ${kind}`, () => {
    let ws: string;
    let id: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-gw-fail-')));
      id = (await resolveWorkspace(ws)).id;
      await writeFile(join(ws, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'config.yaml'),
        CORRAL_DATA_DIR: join(ws, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      // A folder where the gateway makes its socket: it cannot remove it, and exits at start.
      await mkdir(join(ws, '.data', 'gateways', `${kind}-${id}`, 'sock', 'proxy.sock', 'in-the-way'), {
        recursive: true,
      });
    });

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env });
    });

    it('ends with its error and removes the sandbox it had made', async () => {
      // A new gateway boots while the sandbox starts (its relay waits for the socket): a gateway
      // that then fails stops the sandbox, long before this command would print.
      const t0 = Date.now();
      const r = await corral(
        ['shell', 'claude', '--no-join', '--', 'sh', '-c', 'sleep 30; echo never-runs'],
        {
          cwd: ws,
          env,
          timeoutMs: 60_000,
        },
      );
      expect(Date.now() - t0).toBeLessThan(25_000);
      // Ended by itself (a hang is killed at the time-out, with a signal and no code).
      expect(r.signal).toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/egress gateway did not start/);
      expect(r.stdout).not.toContain('never-runs');
      const left = await run(kind, [
        'ps',
        '-a',
        '-q',
        '--filter',
        `label=io.corral.workspace=${id}`,
        '--filter',
        'label=io.corral.role=agent',
      ]);
      expect(left.stdout.trim()).toBe('');
    });
  });
}
