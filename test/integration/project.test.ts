/**
 * A repository's .corral.yaml is untrusted until `corral trust`: asked-for mounts of ~/.ssh and
 * host secrets are not honoured (and the user is told), trusted ones are, an edit revokes trust,
 * and credential stores stay refused even when trusted unless explicitly allowed.
 */
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`project config and trust on ${kind}`, () => {
    let ws: string;
    let home: string;
    let env: NodeJS.ProcessEnv;
    const run = (args: string[]) => corral(args, { cwd: ws, env });
    const probe =
      'echo "secret=$CORRAL_TEST_SECRET mode=$MODE"; ls /mnt/ssh 2>&1 | head -1; ls /mnt/data 2>&1 | head -1; touch /mnt/data/w 2>&1 | head -1';

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-home-')));
      await mkdir(join(home, '.ssh'));
      await writeFile(join(home, '.ssh', 'id_ed25519'), 'PRIVATE KEY');
      ws = join(home, 'project');
      await mkdir(join(ws, 'data'), { recursive: true });
      await writeFile(join(ws, 'data', 'file.txt'), 'data');
      await writeFile(
        join(ws, '.corral.yaml'),
        'env: [CORRAL_TEST_SECRET, MODE=fast]\nmounts: [data:/mnt/data]\negress: {allow: [evil.example]}\n',
      );
      env = {
        CORRAL_ENGINE: kind,
        HOME: home,
        CORRAL_CONFIG: join(home, 'none.yaml'),
        CORRAL_DATA_DIR: join(home, '.local/share/corral'),
        CORRAL_TEST_SECRET: 'hunter2',
        // Another HOME, but the same image cache: nothing to download again.
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    it('ignores widening settings of an untrusted project and says so', async () => {
      const r = await run(['shell', 'claude', '--', 'sh', '-c', probe]);
      expect(r.code).toBe(0);
      // Default-deny: env is not on the untrusted safe list, plain values included.
      expect(r.stdout).toContain('secret= mode=\n');
      expect(r.stdout).toMatch(/\/mnt\/data.*No such file/);
      expect(r.stderr).toMatch(
        /ignoring from untrusted .*\.corral\.yaml: env \(copies host CORRAL_TEST_SECRET; sets MODE\); mounts \(data:\/mnt\/data\); egress\.allow \(evil\.example\)/,
      );
      expect(r.stderr).not.toContain('hunter2');
    });

    it('honours them once trusted, read-only unless :rw, and forgets trust when the file changes', async () => {
      let r = await run(['trust']);
      expect(r.code).toBe(0);
      r = await run(['shell', 'claude', '--', 'sh', '-c', probe]);
      expect(r.stdout).toContain('secret=hunter2 mode=fast');
      expect(r.stdout).toContain('file.txt');
      expect(r.stdout).toMatch(/Read-only file system/);
      await writeFile(join(ws, '.corral.yaml'), 'env: [CORRAL_TEST_SECRET]\nmounts: [data:/mnt/data:rw]\n');
      r = await run(['shell', 'claude', '--', 'sh', '-c', probe]);
      expect(r.stdout).toContain('secret= ');
      expect(r.stderr).toMatch(/untrusted/);
      await run(['trust']);
      r = await run(['shell', 'claude', '--', 'sh', '-c', probe]);
      expect(r.stdout).not.toMatch(/Read-only file system/);
      await run(['untrust']);
    });

    it('refuses a mount of ~/.ssh even when trusted, unless explicitly allowed', async () => {
      await writeFile(join(ws, '.corral.yaml'), 'mounts: [~/.ssh:/mnt/ssh]\n');
      let r = await run(['shell', 'claude', '--', 'true']);
      expect(r.code).toBe(0); // untrusted: skipped, with a message
      expect(r.stderr).toMatch(/ignoring from untrusted .*mounts/);
      await run(['trust']);
      r = await run(['shell', 'claude', '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Refusing to mount .*\.ssh/);
      expect(r.stderr).toMatch(/--allow-sensitive-mounts/);
      r = await run(['shell', 'claude', '--allow-sensitive-mounts', '--', 'sh', '-c', 'ls /mnt/ssh']);
      expect(r.stdout).toContain('id_ed25519');
      await run(['untrust']);
    });
  });
}
