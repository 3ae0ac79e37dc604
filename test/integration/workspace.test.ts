/** Masks keep node_modules out of the host folder; `corral clean` removes the workspace's leftovers. */
import { mkdtemp, readdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`workspace shape on ${kind}`, () => {
    it('masks node_modules with a volume the agent can write, and clean removes it', async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-mask-')));
      const env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'none.yaml'),
        CORRAL_DATA_DIR: join(ws, '.state'),
      };
      const run = (args: string[]) => corral(args, { cwd: ws, env });
      let r = await run(['mask', 'node_modules']);
      expect(r.code).toBe(0);
      expect((await run(['mask', '../escape'])).stderr).toMatch(/Cannot mask/);
      r = await run([
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        'mkdir -p node_modules/dep && echo built-inside > node_modules/dep/index.js',
      ]);
      expect(r.code).toBe(0);
      expect(await readdir(join(ws, 'node_modules'))).toEqual([]); // the host folder stays empty
      r = await run(['shell', 'claude', '--', 'cat', 'node_modules/dep/index.js']);
      expect(r.stdout.trim()).toBe('built-inside'); // and the sandbox keeps it across runs
      const volume = `corral-${workspaceIdOf(ws)}-mask-node_modules`;
      expect(await engine.volumeExists(volume)).toBe(true);
      r = await run(['clean']);
      expect(r.code).toBe(0);
      expect(await engine.volumeExists(volume)).toBe(false);
      expect((await run(['mask'])).stderr).toMatch(/no masks/);
    });
  });
}
