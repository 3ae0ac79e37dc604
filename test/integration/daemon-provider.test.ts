/**
 * `provider` and `model` on the daemon's start-a-sandbox request: a provider added with
 * `corral provider add` (the scripted model server, its key in corral's store) is named in
 * POST /api/sandboxes, and real Claude Code runs headless against it behind the gateway. The model
 * server sees the provider's real key (injected by the gateway) and the chosen model; the sandbox's
 * scan finds the key nowhere; GET /api/providers lists the provider without its key; bad names are
 * refused with the field named.
 */
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { corral } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES } from '../helpers/engines.js';

const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

for (const kind of TEST_ENGINES) {
  describe(`daemon start with a provider on ${kind}`, () => {
    let server: ModelServer;
    let d: TestDaemon;
    let dataDir: string;
    let ws: string;
    const marker = `dprov-${kind}-${Date.now()}`;
    const key = `sk-ant-api03-${marker}-daemon-provider-secret`;

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      dataDir = await mkdtemp(join(tmpdir(), 'corral-daemon-prov-'));
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-daemon-prov-ws-')));
      const scan = `/bin/grep -rlF ${needle(key)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline $HOME /tmp /run/corral /workspace /etc 2>/dev/null > leaks.txt`;
      const script = await parseScript(
        `turns:\n  - say: Writing.\n    run: ${JSON.stringify(`${scan}; echo ${marker} > result.txt`)}\n  - text: Done.\n`,
        'daemon provider script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
        models: ['corral-scripted', 'corral-other'],
      });
      const env = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: dataDir,
        CORRAL_KEYRING: 'off',
        CORRAL_CONFIG: '/nonexistent/corral.yaml',
      };
      const added = await corral(
        [
          'provider',
          'add',
          'ant',
          '--kind',
          'anthropic',
          '--url',
          server.url,
          '--key-from-env',
          'K',
          '--json',
        ],
        { env: { ...env, K: key } },
      );
      expect(added.code, added.stderr).toBe(0);
      d = await startTestDaemon(env);
    }, 600_000);

    afterAll(async () => {
      await corral(['clean'], { env: d?.env, cwd: ws }).catch(() => undefined);
      await d?.stop();
      await server?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('lists providers without keys, and refuses a bad or unknown provider naming it', async () => {
      const list = await d.api<{ name: string; models: string[]; agents: string[] }[]>(
        'GET',
        '/api/providers',
      );
      expect(list.status).toBe(200);
      expect(list.body).toEqual([
        expect.objectContaining({
          name: 'ant',
          kind: 'anthropic',
          models: ['corral-other', 'corral-scripted'],
        }),
      ]);
      expect(list.body[0]!.agents).toContain('claude');
      expect(JSON.stringify(list.body)).not.toContain(key);
      const bad = await d.api<{ error: { message: string } }>('POST', '/api/sandboxes', {
        agent: 'claude',
        workdir: ws,
        provider: 'Not A Name',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/provider/);
      const unknown = await d.api<{ error: { message: string } }>('POST', '/api/sandboxes', {
        agent: 'claude',
        workdir: ws,
        provider: 'nope',
        prompt: 'x',
      });
      expect(unknown.status).toBeGreaterThanOrEqual(400);
      expect(unknown.body.error.message).toMatch(/nope/);
      const doc = await d.api<{ components: { schemas: Record<string, { properties: object }> } }>(
        'GET',
        '/api/openapi.json',
      );
      expect(Object.keys(doc.body.components.schemas.StartSandbox!.properties)).toEqual(
        expect.arrayContaining(['provider', 'model']),
      );
    });

    it('runs Claude Code against the named provider and model; the key is injected, never inside', async () => {
      const before = server.requests.length;
      const r = await d.api<{ id: string; exitCode: number }>('POST', '/api/sandboxes', {
        agent: 'claude',
        workdir: ws,
        network: 'gateway',
        provider: 'ant',
        // Not the provider's default (corral-other, the first listed): the request's own choice.
        model: 'corral-scripted',
        prompt: 'Write result.txt as instructed.',
        yolo: true,
        wait: true,
      });
      const served = server.requests.slice(before);
      if (r.status !== 201 || r.body.exitCode !== 0) console.error(r.body, served);
      expect(r.status).toBe(201);
      expect(r.body.exitCode).toBe(0);
      expect((await readFile(join(ws, 'result.txt'), 'utf8')).trim()).toBe(marker);
      expect(await readFile(join(ws, 'leaks.txt'), 'utf8')).toBe('');
      const turns = served.filter((s) => s.step !== null);
      expect(turns.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
      for (const t of turns) {
        expect(t.key?.replace(/^Bearer /, '')).toBe(key);
        expect(t.body).toContain('"model":"corral-scripted"');
      }
    }, 300_000);
  });
}
