/**
 * Logins moving in and out of profiles: a real login already in a profile's volume is adopted into
 * the host store at the next start (the sandbox keeps a placeholder); `corral auth import` copies a
 * non-brokered agent's login files into the store; `corral auth logout` removes them again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';
import { fakeToken } from '../helpers/oauth-server.js';

const run = promisify(execFile);

for (const kind of TEST_ENGINES) {
  describe(`auth import and adoption on ${kind}`, () => {
    let env: NodeJS.ProcessEnv;
    let ws: string;
    let dir: string;
    const profile = `imp${process.pid % 100000}`;
    const volumes = [`corral-claude-${profile}-home`, `corral-gemini-${profile}-home`];

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-auth-imp-')));
      ws = join(dir, 'ws');
      await mkdir(ws);
      await writeFile(join(dir, 'config.yaml'), 'network: gateway\n');
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        HOME: join(dir, 'home'),
      };
    }, 300_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      for (const v of volumes) await run(kind, ['volume', 'rm', '-f', v]).catch(() => {});
    });

    it('adopts a real login found in the volume at the next start, leaving a placeholder', async () => {
      const access = fakeToken('oat');
      const refresh = fakeToken('ort');
      const creds = JSON.stringify({
        claudeAiOauth: { accessToken: access, refreshToken: refresh, expiresAt: Date.now() + 7 * 86400_000 },
      });
      // Written by a run without the gateway: nothing brokers there, so nothing is adopted yet.
      const seed = await corral(
        [
          'shell',
          'claude',
          '--network',
          'none',
          '--profile',
          profile,
          '-e',
          'CREDS',
          '--',
          'sh',
          '-c',
          'mkdir -p ~/.claude && printf %s "$CREDS" > ~/.claude/.credentials.json',
        ],
        { cwd: ws, env: { ...env, CREDS: creds } },
      );
      expect(seed.code, seed.stderr).toBe(0);
      expect(seed.stderr).not.toContain('login store');
      const r = await corral(
        ['shell', 'claude', '--profile', profile, '--', 'sh', '-c', 'cat ~/.claude/.credentials.json'],
        { cwd: ws, env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        "moved the claude login found in its state volume into corral's login store",
      );
      expect(r.stdout).not.toContain(access);
      expect(r.stdout).not.toContain(refresh);
      expect(JSON.parse(r.stdout).claudeAiOauth.accessToken).toMatch(/^sk-ant-oat01-corral/);
      const stored = join(dir, 'data/auth/claude', profile, 'oauth.json');
      expect(JSON.parse(await readFile(stored, 'utf8')).refreshToken).toBe(refresh);
      expect((await stat(stored)).mode & 0o777).toBe(0o600);
      // Without the gateway there is no one to inject it: the user is told so.
      const open = await corral(
        ['shell', 'claude', '--network', 'none', '--profile', profile, '--', 'true'],
        {
          cwd: ws,
          env,
        },
      );
      expect(open.stderr).toContain('works behind the egress gateway only');
    }, 180_000);

    it("imports a non-brokered agent's login files into the store, and logout removes them", async () => {
      // pi's login is not brokered (Gemini's now is): its file is copied as it is.
      const value = `pi-${randomBytes(24).toString('hex')}`;
      await mkdir(join(dir, 'home/.pi/agent'), { recursive: true });
      await writeFile(
        join(dir, 'home/.pi/agent/auth.json'),
        JSON.stringify({ anthropic: { type: 'oauth', access: value } }),
      );
      const imp = await corral(['auth', 'import', 'pi', '--profile', profile], { env });
      expect(imp.code, imp.stderr).toBe(0);
      expect(imp.stderr).toContain(
        `copied ~/.pi/agent/auth.json into corral's login store (profile ${profile})`,
      );
      expect(imp.stdout + imp.stderr).not.toContain(value);
      // Homes are per workspace: the login lives on the host, and each home gets a copy at start.
      const stored = join(dir, 'data/auth/pi', profile, 'login-files.json');
      expect(JSON.parse(await readFile(stored, 'utf8'))['.pi/agent/auth.json']).toContain(value);
      expect((await stat(stored)).mode & 0o777).toBe(0o600);
      const list = JSON.parse((await corral(['auth', 'list', '--json'], { env })).stdout) as {
        agent: string;
        profile: string;
        volume: boolean;
      }[];
      expect(list).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ agent: 'pi', profile, files: true }),
          expect.objectContaining({ agent: 'claude', profile, volume: true, brokered: true }),
        ]),
      );
      const out = await corral(['auth', 'logout', 'pi', '--profile', profile], { env });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toContain("removed corral's stored login");
      await expect(stat(stored)).rejects.toThrow(/ENOENT/);
    }, 180_000);

    it('says clearly when there is nothing to import', async () => {
      const r = await corral(['auth', 'import', 'codex', '--profile', profile], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot read .*\.codex\/auth\.json/);
      expect(r.stderr).toContain('hint:');
    });
  });
}
