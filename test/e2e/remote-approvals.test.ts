/**
 * Approvals on a remote engine, end to end: real Claude Code runs in a sandbox on the test's second
 * "machine" (rootless Podman there, or Docker through its socket; test/helpers/remote-host.ts),
 * driven by the scripted model on this machine, and asks the host bridge to run a command. The
 * bridge stays here: the request waits in `corral approvals`, and once allowed the command runs on
 * this machine (in the local workspace, as this user), never on the remote one; refused, it does
 * not run anywhere.
 */
import { readFile, realpath, rm, stat } from 'node:fs/promises';
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
import {
  ensureRemoteHost,
  HOST_ADDR,
  onRemote,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const COMMAND = 'hostname > ran-on.txt; id -u >> ran-on.txt';
const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote approvals: ${skip}`);

describe.skipIf(Boolean(skip))('approvals for Claude Code on a remote engine', () => {
  let server: ModelServer;
  let data: string;
  let sshDir: string;
  const made: string[] = [];
  const env = () => ({ CORRAL_SSH_CONFIG: SSH_CONFIG, CORRAL_DATA_DIR: data, CORRAL_SSH_DIR: sshDir });

  beforeAll(async () => {
    await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
    for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
    data = await tempWorkspace('corral-remote-appr-data-');
    sshDir = await tempWorkspace('corral-remote-appr-ssh-');
    for (const kind of TEST_ENGINES) {
      const added = await corral(['remote', 'add', `box-${kind}`, REMOTE_URL, '--engine', kind], {
        env: env(),
      });
      expect(added.code, added.stderr).toBe(0);
    }
    const script = await parseScript(
      [
        'turns:',
        '  - tool: mcp__corral__run_command',
        `    input: ${JSON.stringify({ command: COMMAND })}`,
        '  - text: Asked the host.',
        '',
      ].join('\n'),
      'remote approvals script',
    );
    // Listening on every address here: the remote machine reaches this one at HOST_ADDR.
    server = await startModelServer({
      host: '0.0.0.0',
      script,
      allow: isLocalOrContainerAddress,
      recordBodies: true,
    });
  }, 900_000);

  afterAll(async () => {
    await server?.close();
    for (const ws of made) {
      for (const kind of TEST_ENGINES)
        await corral(['--remote', `box-${kind}`, 'clean'], { cwd: ws, env: env() });
      await rm(ws, { recursive: true, force: true });
    }
    for (const d of [data, sshDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  /** The model as the remote machine reaches it: this machine's address on the link between them. */
  const modelUrl = () => `http://${HOST_ADDR}:${new URL(server.url).port}`;

  for (const kind of TEST_ENGINES) {
    it(`on ${kind} there: an approved command runs on this machine, a refused one nowhere`, async () => {
      const ws = await realpath(await tempWorkspace(`corral-remote-appr-${kind}-`));
      made.push(ws);
      const run = (extra: NodeJS.ProcessEnv = {}) =>
        corral(
          [
            '--remote',
            `box-${kind}`,
            'run',
            'claude',
            '--model-url',
            modelUrl(),
            '--prompt',
            'Ask the host.',
            '--yolo',
          ],
          { cwd: ws, env: { ...env(), ...extra } },
        );
      const started = Date.now();
      const running = run();
      let id: string | undefined;
      for (let i = 0; !id && i < 600; i++) {
        const list = await corral(['approvals', '--json', '-w', ws], { cwd: ws, env: env() });
        const pending = JSON.parse(list.stdout || '[]') as Array<{
          id: string;
          details: { command?: string };
        }>;
        if (pending[0]) {
          expect(pending[0].details.command).toBe(COMMAND);
          id = pending[0].id;
        } else await new Promise((res) => setTimeout(res, 100));
      }
      expect(id, 'an approval request appeared').toBeDefined();
      console.log(
        `remote approvals on ${kind}: asked ${((Date.now() - started) / 1000).toFixed(1)} s after the run started`,
      );
      await expect(stat(join(ws, 'ran-on.txt'))).rejects.toThrow();
      const allow = await corral(['approvals', 'allow', id!], { cwd: ws, env: env() });
      expect(allow.code, allow.stderr).toBe(0);
      const r = await running;
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('refused a host command');
      // Ran here: this machine's name and this user, in the local workspace.
      const { hostname } = await import('node:os');
      expect(await readFile(join(ws, 'ran-on.txt'), 'utf8')).toBe(`${hostname()}\n${process.getuid?.()}\n`);
      // The model got the command's result back through the remote sandbox.
      expect(server.requests.some((s) => s.step === 1 && s.body?.includes('exit_code'))).toBe(true);

      // Nobody answers (a short timeout stands in for the minute a person gets): nothing runs.
      await rm(join(ws, 'ran-on.txt'));
      const refused = await run({ CORRAL_APPROVAL_TIMEOUT: '2' });
      expect(refused.code, refused.stderr).toBe(0);
      expect(refused.stderr).toContain('refused a host command');
      await expect(stat(join(ws, 'ran-on.txt'))).rejects.toThrow();
      // Nor on the remote machine (its copy of the workspace, anywhere in corral's folders there).
      expect(onRemote('find ~/.cache/corral-remote -name ran-on.txt 2>/dev/null | wc -l').trim()).toBe('0');
    });
  }
});
