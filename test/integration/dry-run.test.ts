/** `--dry-run` prints engine commands that, run by hand, reproduce what corral does. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`dry-run on ${kind}`, () => {
    it('prints runnable commands that reproduce the run (user, mounts, ownership, hardening)', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-dry-')));
      const env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'none.yaml'),
        CORRAL_DATA_DIR: join(ws, '.state'),
      };
      const probe = 'id -u > dry.txt; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status >> dry.txt';
      const r = await corral(
        // On the ordinary network: behind the gateway the printed commands also need the
        // workspace's gateway running, which the dry run names but does not start.
        [
          'shell',
          'claude',
          '--no-join',
          '--network',
          'open',
          '--dry-run',
          '-e',
          'API_TOKEN=not-printed',
          '--',
          'sh',
          '-c',
          probe,
        ],
        { cwd: ws, env },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${kind} run `);
      expect(r.stdout).not.toContain('not-printed');
      await expect(stat(join(ws, 'dry.txt'))).rejects.toThrow(); // nothing ran yet
      // Run what it printed, by hand (with the secret in the shell's environment).
      execFileSync('bash', ['-euc', r.stdout], {
        cwd: ws,
        env: { ...process.env, API_TOKEN: 'x' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const text = await readFile(join(ws, 'dry.txt'), 'utf8');
      expect(text).toMatch(/^1000\nCapEff:\s+0+\nNoNewPrivs:\s+1\n$/);
      expect((await stat(join(ws, 'dry.txt'))).uid).toBe(process.getuid!());
    });
  });
}
