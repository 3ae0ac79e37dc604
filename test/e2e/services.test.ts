/**
 * Services end to end: the real Claude Code CLI in a sandbox behind the gateway, driven by the
 * scripted model, calls corral's `start_service` over MCP (the image allowed beforehand), then its
 * own shell tool reaches the service by name; after the run nothing of the service is left.
 */
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import { buildEchoImage } from '../helpers/services.js';

for (const kind of TEST_ENGINES) {
  describe(`services with Claude Code on ${kind}`, () => {
    const env = { CORRAL_ENGINE: kind };
    const image = `localhost/corral-test-echo:e2e-${process.pid}`;
    let server: ModelServer;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await buildEchoImage(engine, image);
      const script = await parseScript(
        [
          'turns:',
          '  - tool: mcp__corral__start_service',
          `    input: { image: "${image}", name: echo, env: { ECHO_TOKEN: not-shown } }`,
          '  - run: curl -s -m 10 http://echo:8080/from-claude > got.txt',
          '  - text: The service answered.',
          '',
        ].join('\n'),
        'services script',
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
      await (await engineFor(kind)).removeImage(image).catch(() => {});
    });

    it('Claude starts a service through the bridge and reaches it by name; it is gone after the run', async () => {
      const ws = await realpath(await tempWorkspace('corral-e2e-services-'));
      try {
        expect((await corral(['allowed', 'add', `service:${image}`], { cwd: ws, env })).code).toBe(0);
        const r = await corral(
          ['run', 'claude', '--model-url', server.url, '--prompt', 'Start a service.', '--yolo'],
          {
            cwd: ws,
            env,
          },
        );
        if (r.code !== 0) console.error(r.stdout, r.stderr);
        expect(r.code).toBe(0);
        expect(r.stderr).not.toContain('refused');
        expect(await readFile(join(ws, 'got.txt'), 'utf8')).toBe('echo-ok /from-claude');
        // The tool result the model got back names where to reach it and the env key, not its value.
        const body = JSON.parse(server.requests.find((s) => s.step === 1)?.body ?? '{}') as {
          messages?: { content: unknown }[];
        };
        const results = JSON.stringify(
          (body.messages ?? [])
            .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
            .filter((c: { type?: string }) => c.type === 'tool_result'),
        );
        expect(results).toContain('echo:8080');
        expect(results).toContain('ECHO_TOKEN');
        expect(results).not.toContain('not-shown');
        const engine = await engineFor(kind);
        const left = await engine.list({
          labels: [`io.corral.workspace=${workspaceIdOf(ws)}`, 'io.corral.role=service'],
          all: true,
        });
        expect(left).toEqual([]);
        expect(await engine.networkExists(`corral-${workspaceIdOf(ws)}-net`)).toBe(false);
      } finally {
        await corral(['clean'], { cwd: ws, env });
      }
    }, 300_000);
  });
}
