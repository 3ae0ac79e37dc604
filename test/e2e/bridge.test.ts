/**
 * The host bridge, end to end: the real Claude Code in a sandbox behind the gateway calls corral's
 * MCP tool `run_command` (the scripted model asks it to). Allowed beforehand, the command runs on
 * the host in the workspace and its output files appear; not allowed, it is refused and nothing runs.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
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

const COMMAND = 'echo made-on-the-host > host-made.txt';

for (const kind of TEST_ENGINES) {
  describe(`host bridge on ${kind}`, () => {
    let server: ModelServer;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      const script = await parseScript(
        [
          'turns:',
          '  - tool: mcp__corral__run_command',
          `    input: { command: "${COMMAND}" }`,
          '  - text: Asked the host.',
          '',
        ].join('\n'),
        'bridge script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
      });
    }, 600_000);

    afterAll(async () => {
      await server?.close();
    });

    const runClaude = (ws: string) =>
      corral(['run', 'claude', '--model-url', server.url, '--prompt', 'Ask the host.', '--yolo'], {
        cwd: ws,
        env: { CORRAL_ENGINE: kind },
      });

    it('runs an allowed command on the host, in the workspace, with its output files', async () => {
      const ws = await realpath(await tempWorkspace('corral-e2e-bridge-'));
      const env = { CORRAL_ENGINE: kind };
      expect((await corral(['allowed', 'add', COMMAND], { cwd: ws, env })).code).toBe(0);
      const before = server.requests.length;
      const r = await runClaude(ws);
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code).toBe(0);
      expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
      const sessions = await readdir(join(ws, '.corral', 'commands'));
      expect(sessions).toHaveLength(1);
      const [id] = await readdir(join(ws, '.corral', 'commands', sessions[0]!));
      const dir = join(ws, '.corral', 'commands', sessions[0]!, id!);
      expect(await readFile(join(dir, 'command'), 'utf8')).toContain(COMMAND);
      expect((await readFile(join(dir, 'exit'), 'utf8')).trim()).toBe('0');
      // The model asked for the tool (step 0) and got its result back (step 1), which carries the
      // command's output.
      const served = server.requests.slice(before);
      expect(served.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
      expect(served.find((s) => s.step === 1)?.body).toContain('exit');
      await corral(['clean'], { cwd: ws, env });
    });

    it('refuses a command nobody allowed, and says how to allow it', async () => {
      const ws = await realpath(await tempWorkspace('corral-e2e-bridge-'));
      const r = await runClaude(ws);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('refused a host command');
      await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
      await corral(['clean'], { cwd: ws, env: { CORRAL_ENGINE: kind } });
    });
  });
}
