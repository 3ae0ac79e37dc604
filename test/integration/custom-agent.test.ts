/**
 * A custom agent from config runs like a built-in one: `corral run mytool` starts its command in a
 * hardened sandbox on the image the config names, as the sandbox user, in the workspace, with its
 * yolo and headless args. Bad definitions fail with the file and key.
 */
import { mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

async function setup(yaml: (image: string) => string, image: string) {
  const dir = await mkdtemp(join(tmpdir(), 'corral-custom-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, yaml(image));
  const ws = await realpath(await tempWorkspace('corral-custom-ws-'));
  return { config, ws };
}

for (const kind of TEST_ENGINES) {
  describe(`custom agents on ${kind}`, () => {
    it('runs a custom agent whose image is the claude image and whose command is bash', async () => {
      const image = await agentImage(await engineFor(kind), 'claude');
      const { config, ws } = await setup(
        (img) => `agents:
  mytool:
    image: ${img}
    command: [bash, -c, 'echo "$0 $* uid=$(id -u) cwd=$PWD" > out.txt', mytool]
    yolo_args: [--all-in]
    headless_args: [--ask, '{prompt}']
    home: [.mytool]
    api_hosts: [api.mytool.example]
    keys: [{env: MYTOOL_KEY, host: api.mytool.example}]
`,
        image,
      );
      const env = { CORRAL_ENGINE: kind, CORRAL_CONFIG: config };
      try {
        const r = await corral(['run', 'mytool', '--yolo', '--prompt', 'do it', '--network', 'gateway'], {
          cwd: ws,
          env,
        });
        if (r.code !== 0) console.error(r.stdout, r.stderr);
        expect(r.code).toBe(0);
        // yolo args, then the headless args with the prompt; as uid 1000 in /workspace, the file
        // owned by the host user outside.
        expect(await readFile(join(ws, 'out.txt'), 'utf8')).toBe(
          'mytool --all-in --ask do it uid=1000 cwd=/workspace\n',
        );
        expect((await stat(join(ws, 'out.txt'))).uid).toBe(process.getuid!());
        // Its api_hosts are allowed and its key is the gateway's to inject: the sandbox would get a
        // placeholder, and the plan never shows the value.
        const plan = await corral(
          ['run', 'mytool', '--dry-run', '--network', 'gateway', '-e', 'MYTOOL_KEY'],
          {
            cwd: ws,
            env: { ...env, MYTOOL_KEY: 'sekrit-value-123' },
          },
        );
        expect(plan.code).toBe(0);
        expect(plan.stdout).toContain('"api.mytool.example"');
        // The sandbox's MYTOOL_KEY is a placeholder (the key's shape kept, its value not).
        expect(plan.stdout).toMatch(/ -e MYTOOL_KEY=sekrit-value-corral[0-9a-f]+ /);
        expect(plan.stdout + plan.stderr).not.toContain('sekrit-value-123');
        expect(plan.stdout).toContain('"header": "authorization"');
      } finally {
        await corral(['clean'], { cwd: ws, env });
      }
    });

    it('rejects an incomplete custom agent with the file and key', async () => {
      const { config, ws } = await setup(() => 'agents:\n  mytool:\n    command: [mytool]\n', '');
      const r = await corral(['run', 'mytool'], {
        cwd: ws,
        env: { CORRAL_ENGINE: kind, CORRAL_CONFIG: config },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(config);
      expect(r.stderr).toContain('agents.mytool.image');
      expect(r.stderr).toContain('exactly one of image');
    });
  });
}
