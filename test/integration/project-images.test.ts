/**
 * A project's own image: a Containerfile extending the agent image, and a devcontainer.json whose
 * Dockerfile becomes the base the agent is installed onto. Both are honoured only once trusted.
 */
import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rootfsRecipe } from '../../src/images/recipes.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const VERSION = /\d+\.\d+\.\d+/;

for (const kind of TEST_ENGINES) {
  describe(`project images on ${kind}`, () => {
    let home: string;
    let env: NodeJS.ProcessEnv;
    const run = (ws: string, args: string[]) => corral(args, { cwd: ws, env, timeoutMs: 600_000 });

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      home = await realpath(await mkdtemp(join(tmpdir(), 'corral-home-')));
      env = {
        CORRAL_ENGINE: kind,
        HOME: home,
        CORRAL_CONFIG: join(home, 'none.yaml'),
        CORRAL_DATA_DIR: join(home, '.local/share/corral'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    it('builds a trusted project Containerfile onto the agent image, with .corral/ as its context', async () => {
      const ws = join(home, 'containerfile');
      await mkdir(join(ws, '.corral'), { recursive: true });
      await writeFile(
        join(ws, '.corral', 'Containerfile'),
        // A fresh nonce per run, so an image left by an earlier run cannot stand in for this build.
        `# run ${process.pid}-${Date.now()}\nCOPY hello.txt /opt/hello.txt\nRUN echo "built-$(cat /opt/hello.txt)" > /etc/project-marker\n`,
      );
      await writeFile(join(ws, '.corral', 'hello.txt'), 'one');
      const probe = ['shell', 'claude', '--', 'sh', '-c', 'cat /etc/project-marker; claude --version'];

      let r = await run(ws, probe);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('built-');
      expect(r.stderr).toMatch(/ignoring from untrusted .*\.corral\/Containerfile \(custom image\)/);

      expect((await run(ws, ['trust'])).code).toBe(0);
      r = await run(ws, probe);
      expect(r.stdout).toContain('built-one');
      expect(r.stdout).toMatch(VERSION);
      expect(r.stderr).toContain('project: .corral/Containerfile');

      // Built once: the next run starts from the tagged image.
      r = await run(ws, probe);
      expect(r.stdout).toContain('built-one');
      expect(r.stderr).not.toContain('project: .corral/Containerfile');

      // A context file changed: a new tag, built again (the trusted Containerfile is unchanged).
      await writeFile(join(ws, '.corral', 'hello.txt'), 'two');
      r = await run(ws, probe);
      expect(r.stdout).toContain('built-two');
    });

    it('refuses a Containerfile that brings its own FROM, naming the line', async () => {
      const ws = join(home, 'with-from');
      await mkdir(ws, { recursive: true });
      await writeFile(join(ws, 'corral.Dockerfile'), 'RUN true\nFROM debian:bookworm\n');
      await run(ws, ['trust']);
      const r = await run(ws, ['shell', 'claude', '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/corral\.Dockerfile:2: remove this FROM line/);
    });

    it("installs the agent onto a devcontainer's image and honours its env, ports and postCreateCommand", async () => {
      const ws = join(home, 'devcontainer');
      await mkdir(join(ws, '.devcontainer'), { recursive: true });
      const rootfs = rootfsRecipe('bookworm').tag;
      // uid 1000 is taken by the image's own user, as in most devcontainer images.
      await writeFile(
        join(ws, '.devcontainer', 'Dockerfile'),
        `FROM ${rootfs}\nARG MARK\nRUN useradd -u 1000 -m devuser && echo "$MARK" > /etc/dev-marker\n`,
      );
      await writeFile(
        join(ws, '.devcontainer', 'devcontainer.json'),
        `{
  // JSON with comments and trailing commas, as the spec allows
  "name": "test",
  "build": { "dockerfile": "Dockerfile", "args": { "MARK": "from-arg" } },
  "containerEnv": { "DEV_FOO": "bar" },
  "forwardPorts": [4317, "db:5432"],
  "postCreateCommand": "echo created-$DEV_FOO > /tmp/post-create",
  "features": { "ghcr.io/devcontainers/features/node:1": {} },
}
`,
      );
      const probe = [
        'shell',
        'claude',
        '--',
        'sh',
        '-c',
        'cat /etc/dev-marker; cat /tmp/post-create; echo "env=$DEV_FOO user=$(id -un)"; claude --version',
      ];
      let r = await run(ws, probe);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('from-arg');
      expect(r.stderr).toMatch(/ignoring from untrusted .*devcontainer\.json/);

      expect((await run(ws, ['trust'])).code).toBe(0);
      r = await run(ws, probe);
      expect(r.stderr).toMatch(/not supported from .*devcontainer\.json: .*features/);
      expect(r.stderr).toContain('forwardPorts "db:5432"');
      expect(r.stdout).toContain('from-arg');
      expect(r.stdout).toContain('created-bar');
      expect(r.stdout).toContain('env=bar user=devuser');
      expect(r.stdout).toMatch(VERSION);

      r = await run(ws, ['run', 'claude', '--network', 'open', '--dry-run']);
      expect(r.stdout).toContain('127.0.0.1:4317:4317');
      expect(r.stdout).toMatch(/localhost\/corral\/dev-claude:/);
    });
  });
}
