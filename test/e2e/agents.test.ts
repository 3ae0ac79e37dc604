/**
 * Real agent CLIs in real sandboxes, driven by corral's scripted model: each runs a shell tool that
 * writes a file into the workspace; the file's content and owner prove the whole path.
 */
import { readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

const AGENTS = ['claude', 'codex'] as const;

for (const kind of TEST_ENGINES) {
  describe(`real agents on ${kind}`, () => {
    let server: ModelServer;
    const marker = `e2e-${kind}-${Date.now()}`;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      for (const a of AGENTS) await agentImage(engine, a);
      const script = await parseScript(
        `turns:\n  - say: Writing the result file.\n    run: echo "${marker} from $(id -u)" > result.txt\n  - text: Wrote result.txt.\n`,
        'e2e script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    for (const agent of AGENTS) {
      it(`${agent} runs the scripted shell tool and writes a file the host user owns`, async () => {
        const ws = await realpath(await tempWorkspace(`corral-e2e-${agent}-`));
        await writeFile(join(ws, 'README.md'), '# e2e workspace\n');
        const rule = `house-rule-${marker}`;
        await writeFile(join(ws, 'AGENTS.md'), `# Rules\nAlways follow ${rule}.\n`);
        const before = server.requests.length;
        const r = await corral(
          [
            'run',
            agent,
            '--model-url',
            server.url,
            '--prompt',
            'Write result.txt as instructed.',
            ...(agent === 'claude' ? ['--yolo'] : []),
          ],
          { cwd: ws, env: { CORRAL_ENGINE: kind } },
        );
        const served = server.requests.slice(before);
        if (r.code !== 0) console.error(r.stdout, r.stderr, served);
        expect(r.code).toBe(0);
        expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(
          `${marker} from ${kind === 'docker' ? 1000 : 1000}\n`,
        );
        expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());
        // The agent asked for step 0 (the tool call) and then step 1 (after the tool result).
        expect(served.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
        // AGENTS.md reaches the agent (Claude reads CLAUDE.md; Codex reads AGENTS.md itself), and
        // corral wrote nothing into the workspace for it.
        expect(served.some((s) => s.body?.includes(rule))).toBe(true);
        expect((await readdir(ws)).sort()).toEqual(['AGENTS.md', 'README.md', 'result.txt']);
      });
    }

    it('claude works through the egress gateway, and its model traffic is in the audit log', async () => {
      const ws = await realpath(await tempWorkspace('corral-e2e-gw-'));
      const env = { CORRAL_ENGINE: kind };
      const r = await corral(
        [
          'run',
          'claude',
          '--network',
          'gateway',
          '--model-url',
          server.url,
          '--prompt',
          'Write result.txt as instructed.',
          '--yolo',
        ],
        { cwd: ws, env },
      );
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code).toBe(0);
      expect(await readFile(join(ws, 'result.txt'), 'utf8')).toContain(marker);
      const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      const entries = log.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { path?: string; decision: string; status: number });
      expect(
        entries.filter((e) => e.path?.startsWith('/v1/messages') && e.status === 200).length,
      ).toBeGreaterThanOrEqual(2);
      await corral(['clean'], { cwd: ws, env });
    });
  });
}
