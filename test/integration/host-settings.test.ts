/**
 * `host_settings: true` copies the user's own Claude settings into the sandbox at start, merged
 * with corral's; the host files are only read, never written.
 */
import { mkdir, mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`host settings import on ${kind}`, () => {
    let home: string;
    let env: NodeJS.ProcessEnv;
    const profile = `hs${process.pid}`;
    const settings = JSON.stringify({
      theme: 'light-daltonized',
      permissions: { allow: ['Bash(npm test)'] },
    });
    const probe = [
      'shell',
      'claude',
      '--profile',
      profile,
      '--',
      'sh',
      '-c',
      'mkdir -p ~/.claude; cat ~/.claude/settings.json 2>&1; echo; cat ~/.claude/CLAUDE.md 2>&1; echo tampered > ~/.claude/CLAUDE.md',
    ];

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-home-')));
      await mkdir(join(home, '.claude'));
      await writeFile(join(home, '.claude', 'settings.json'), settings);
      await writeFile(join(home, '.claude', 'CLAUDE.md'), '# Always use tabs\n');
      env = {
        CORRAL_ENGINE: kind,
        HOME: home,
        CORRAL_CONFIG: join(home, 'config.yaml'),
        CORRAL_DATA_DIR: join(home, '.local/share/corral'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      await (await engineFor(kind)).removeVolume(`corral-claude-${profile}-home`).catch(() => {});
    });

    it('leaves them out unless asked', async () => {
      await writeFile(join(home, 'config.yaml'), '{}\n');
      const r = await corral(probe, { cwd: home, env });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('light-daltonized');
      expect(r.stdout).not.toContain('Always use tabs');
    });

    it('copies them in with agents.claude.host_settings, read-only towards the host', async () => {
      await writeFile(join(home, 'config.yaml'), 'agents: {claude: {host_settings: true}}\n');
      const r = await corral(probe, { cwd: home, env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/"theme": ?"light-daltonized"/);
      expect(r.stdout).toContain('Bash(npm test)');
      expect(r.stdout).toContain('# Always use tabs');
      // The sandbox changed its copy; the host file is as it was, and the next start copies it again.
      expect(await readFile(join(home, '.claude', 'CLAUDE.md'), 'utf8')).toBe('# Always use tabs\n');
      const again = await corral(probe, { cwd: home, env });
      expect(again.stdout).toContain('# Always use tabs');
      expect(again.stdout).not.toContain('tampered');
    });
  });
}
