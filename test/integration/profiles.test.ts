/**
 * Profiles, attacked from inside: a sandbox on one profile looks for another profile's files
 * (its home, any mount, any path on the filesystem) and must find nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`profiles on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    // Unique per run: state volumes are named by agent and profile only, and the engines are shared.
    const tag = randomBytes(3).toString('hex');
    const home = `p${tag}-home`;
    const other = `p${tag}-work`;
    const marker = `corral-marker-${randomBytes(8).toString('hex')}`;
    const sh = (profile: string, script: string) =>
      corral(['shell', 'claude', '--no-join', '--profile', profile, '--', 'sh', '-c', script], {
        cwd: ws,
        env,
      });

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      const dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-prof-')));
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-prof-ws-')));
      await writeFile(join(dir, 'config.yaml'), 'network: none\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      for (const p of [home, other])
        await run(kind, ['volume', 'rm', '-f', `corral-claude-${p}-home`]).catch(() => {});
    });

    it("keeps one profile's home out of another profile's sandbox", async () => {
      const w = await sh(home, `mkdir -p ~/.claude && echo ${marker} > ~/.claude/${marker} && echo written`);
      expect(w.stdout.trim()).toBe('written');
      // The same profile sees it again (so the probe below could find it if it leaked).
      const same = await sh(home, `cat ~/.claude/${marker}`);
      expect(same.stdout.trim()).toBe(marker);
      const r = await sh(
        other,
        [
          `cat ~/.claude/${marker} 2>/dev/null || echo no-file`,
          `find / -xdev -name '${marker}' 2>/dev/null; find /home /tmp /run /mnt /media /workspace /var -name '${marker}' 2>/dev/null`,
          `grep -c 'claude-${home}-home' /proc/self/mountinfo || true`,
          `grep -rlF ${marker.slice(0, 14)}'${marker.slice(14)}' /home /tmp /run /workspace 2>/dev/null; echo scanned`,
        ].join('; '),
      );
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['no-file', '0', 'scanned']);
    });

    it('refuses a profile name that is not a plain name', async () => {
      const r = await corral(['shell', 'claude', '--profile', '../default', '--', 'true'], { cwd: ws, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Invalid profile name "../default"');
      expect(r.stderr).toContain('hint:');
    });
  });
}
