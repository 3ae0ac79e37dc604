/**
 * Skills reach the real CLIs: a skill added with `corral skills add` (a local folder) is installed
 * into each agent's skills folder in its home (`skillsDir` in the agent spec), and the real CLI,
 * run headless against the scripted model, lists it to the model: the skill's description arrives in
 * the model request. Codex `~/.codex/skills`, Copilot CLI `~/.copilot/skills`, pi
 * `~/.pi/agent/skills`, OpenCode `~/.config/opencode/skill`. (Checked by hand as well, podman: Codex,
 * Copilot, pi and OpenCode also read `~/.agents/skills`; OpenCode reads `skills` and `~/.claude/skills`
 * too; Copilot does not read `~/.claude/skills`; pi does not read `~/.pi/skills`.)
 */
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgent } from '../../src/agents/index.js';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const CASES = [
  { agent: 'codex', flags: [] as string[] },
  { agent: 'copilot', flags: ['--yolo'] },
  { agent: 'pi', flags: [] as string[] },
  { agent: 'opencode', flags: [] as string[] },
];

for (const kind of TEST_ENGINES) {
  describe(`skills reach the real agents on ${kind}`, () => {
    let server: ModelServer;
    let env: NodeJS.ProcessEnv;
    let dir: string;
    const marker = `skillmark-${kind}-${Date.now()}`;

    beforeAll(async () => {
      const script = await parseScript(
        'turns:\n  - say: Writing.\n    run: echo done > result.txt\n  - text: Done.\n',
        'skills script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-skills-agents-')));
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      const skill = join(dir, 'probe-skill');
      await mkdir(skill);
      await writeFile(
        join(skill, 'SKILL.md'),
        `---\nname: probe-skill\ndescription: Use when asked about ${marker}.\n---\nThe probe skill's body.\n`,
      );
      const add = await corral(['skills', 'add', skill], { env });
      expect(add.code, add.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await server?.close();
    });

    for (const c of CASES) {
      it(`${c.agent} lists the skill from ~/${resolveAgent(c.agent).skillsDir} to the model`, async () => {
        await agentImage(await engineFor(kind), c.agent);
        const ws = await realpath(await tempWorkspace(`corral-skills-${c.agent}-`));
        const before = server.requests.length;
        try {
          const r = await corral(
            ['run', c.agent, '--model-url', server.url, '--prompt', 'Write result.txt.', ...c.flags],
            { cwd: ws, env },
          );
          const served = server.requests.slice(before);
          if (r.code !== 0) console.error(r.stdout, r.stderr);
          expect(r.code).toBe(0);
          expect(served.length).toBeGreaterThan(0);
          expect(
            served.some((s) => s.body?.includes(marker)),
            `${c.agent} did not show the skill installed in ~/${resolveAgent(c.agent).skillsDir} to the model`,
          ).toBe(true);
        } finally {
          await corral(['clean'], { cwd: ws, env });
        }
      }, 600_000);
    }
  });
}
