/** `corral run <agent> --resume`: the agent's own flag for its last session, or a clear refusal. */
import { realpath } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`--resume on ${kind}`, () => {
    it.each([
      ['claude', ' claude --continue'],
      ['codex', ' codex resume --last'],
      ['gemini', ' gemini --resume latest'],
      ['qwen', ' qwen --continue'],
    ])('%s continues its last session', async (agent, argv) => {
      const ws = await realpath(await tempWorkspace('corral-resume-'));
      const r = await corral(['run', agent, '--resume', '--dry-run', '--network', 'none'], {
        cwd: ws,
        env: { CORRAL_ENGINE: kind },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(argv);
    });

    it('refuses for an agent without a resume flag, saying so', async () => {
      const ws = await realpath(await tempWorkspace('corral-resume-'));
      const r = await corral(['run', 'pi', '--resume', '--dry-run'], {
        cwd: ws,
        env: { CORRAL_ENGINE: kind },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('has no flag corral knows for continuing its last session');
    });
  });
}
