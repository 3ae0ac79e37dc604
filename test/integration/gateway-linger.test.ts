/**
 * The gateway lingers after its last sandbox (egress.gateway_linger) so the next run finds it up,
 * exits by itself once the linger has passed with no sandbox, never under a running sandbox
 * however quiet, and goes at once on `corral stop`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveWorkspace } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LINGER = 3;

for (const kind of TEST_ENGINES) {
  describe(`gateway linger on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let name: string;
    /** "true <id>" while it runs, "false <id>" once exited, undefined when gone. */
    const gateway = async () =>
      (
        await run(kind, ['inspect', '-f', '{{.State.Running}} {{.Id}}', name]).catch(() => undefined)
      )?.stdout.trim();

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-gw-linger-')));
      name = `corral-${(await resolveWorkspace(ws)).id}-gateway`;
      await writeFile(join(ws, 'config.yaml'), `network: gateway\negress:\n  gateway_linger: ${LINGER}\n`);
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'config.yaml'),
        CORRAL_DATA_DIR: join(ws, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env });
    });

    it("stays up after a run for the next one, with the next run's policy only, then exits by itself", async () => {
      const first = await corral(['shell', 'claude', '--no-join', '--allow', 'leak.test', '--', 'true'], {
        cwd: ws,
        env,
      });
      expect(first.code).toBe(0);
      const serving = await gateway();
      expect(serving).toMatch(/^true /);
      // The first run's --allow must not carry over to a run that did not ask for it.
      const second = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--',
          'sh',
          '-c',
          "curl -s -o /dev/null -w '%{http_code}' http://leak.test/",
        ],
        { cwd: ws, env },
      );
      expect(second.stdout).toBe('403');
      // The same container served the second run.
      expect(await gateway()).toBe(serving);
      await sleep((LINGER + 3) * 1000);
      expect(await gateway()).not.toMatch(/^true /);
    });

    it('does not idle out under a running sandbox, and goes at once with `corral stop`', async () => {
      expect((await corral(['shell', 'claude', '-d'], { cwd: ws, env })).code).toBe(0);
      try {
        // Longer than the linger with no traffic at all: the sandbox's presence keeps it up.
        await sleep((LINGER + 3) * 1000);
        expect(await gateway()).toMatch(/^true /);
        const probe = await corral(
          [
            'exec',
            'claude',
            '--',
            'sh',
            '-c',
            "curl -s -o /dev/null -w '%{http_code}' http://blocked.example/",
          ],
          { cwd: ws, env },
        );
        expect(probe.stdout).toBe('403');
      } finally {
        expect((await corral(['stop', 'claude', '-f'], { cwd: ws, env })).code).toBe(0);
      }
      expect(await gateway()).toBeUndefined();
    });

    it('gives a run with the same key the same placeholder and hands nothing over; a new key, a new one', async () => {
      // Token-shaped values made here; the sandbox must only ever see placeholders.
      const keyA = ['sk', 'ant', 'api03', 'a'.repeat(60)].join('-');
      const keyB = ['sk', 'ant', 'api03', 'b'.repeat(60)].join('-');
      const revision = async () => {
        const files = (await readdir(join(ws, '.data'), { recursive: true })).filter((f) =>
          String(f).endsWith('conf/gateway.json'),
        );
        expect(files).toHaveLength(1);
        return (
          JSON.parse(await readFile(join(ws, '.data', String(files[0])), 'utf8')) as { revision: number }
        ).revision;
      };
      const seen = async (key: string) => {
        const r = await corral(
          [
            'shell',
            'claude',
            '--no-join',
            '-e',
            'ANTHROPIC_API_KEY',
            '--',
            'sh',
            '-c',
            'printf %s "$ANTHROPIC_API_KEY"',
          ],
          {
            cwd: ws,
            env: { ...env, ANTHROPIC_API_KEY: key },
          },
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^sk-ant-api03-corral[0-9a-f]{24}x+$/);
        return { placeholder: r.stdout, revision: await revision() };
      };
      // The first run starts the gateway; on Podman that brings up the podman0 bridge, a new host
      // address the next run hands over once. From then on a run like the last changes nothing.
      await seen(keyA);
      const first = await seen(keyA);
      const again = await seen(keyA);
      expect(again).toEqual(first);
      const other = await seen(keyB);
      expect(other.placeholder).not.toBe(first.placeholder);
      expect(other.revision).toBeGreaterThan(first.revision);
    });
  });
}
