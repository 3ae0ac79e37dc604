/** A TTY session is recorded as an asciicast v2 transcript that can be listed and replayed. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`transcripts on ${kind}`, () => {
    it('records a terminal session and replays it; --no-record records nothing', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await mkdtemp(join(tmpdir(), 'corral-rec-'));
      const env = {
        ...process.env,
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'none.yaml'),
        CORRAL_STATE_DIR: join(ws, '.state'),
      };
      // `script` gives corral a real terminal, as a user's shell would.
      const inTerminal = (args: string) =>
        execFileSync('script', ['-qec', `${process.execPath} ${BIN} ${args}`, '/dev/null'], {
          cwd: ws,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      inTerminal(`shell claude --no-join -- sh -c 'echo recorded-$((6*7))'`);
      inTerminal(`shell claude --no-join --no-record -- sh -c 'echo not-recorded'`);
      let r = await corral(['sessions', 'list', '--json'], { cwd: ws, env });
      const sessions = JSON.parse(r.stdout) as { id: string; file: string; agent: string }[];
      expect(sessions).toHaveLength(1);
      expect(sessions[0]!.agent).toBe('claude');
      const lines = (await readFile(sessions[0]!.file, 'utf8')).trimEnd().split('\n');
      expect(JSON.parse(lines[0]!)).toMatchObject({ version: 2, width: 80, height: 24 });
      r = await corral(['sessions', 'play', sessions[0]!.id.slice(0, 6), '--speed', '0'], { cwd: ws, env });
      expect(r.stdout).toContain('recorded-42');
      r = await corral(['sessions', 'rm', '--all'], { cwd: ws, env });
      expect(r.code).toBe(0);
      expect(JSON.parse((await corral(['sessions', 'list', '--json'], { cwd: ws, env })).stdout)).toEqual([]);
    });
  });
}
