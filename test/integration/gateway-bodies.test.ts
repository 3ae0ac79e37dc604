/**
 * Opt-in body logging, end to end: a sandbox posts a body with a planted key-shaped value through
 * the workspace's gateway to a test-owned echo container. Without --log-bodies the audit log has
 * no body at all; with it, `corral egress log` shows both bodies with the key redacted.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

// Answers every request with what it was sent, so a key in the request comes back in the response.
const ECHO = `require('http').createServer((q,s)=>{let b='';q.on('data',c=>b+=c);q.on('end',()=>{s.setHeader('content-type','application/json');s.end(JSON.stringify({echo:b}))})}).listen(8080)`;

interface Entry {
  method: string;
  host: string;
  status: number;
  requestBody?: { text?: string; omitted?: string };
  responseBody?: { text?: string; omitted?: string };
}

for (const kind of TEST_ENGINES) {
  describe(`gateway body logging on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    const site = `corral-test-echo-${process.pid}`;
    // Built at run time: a key-shaped value that exists nowhere else.
    const plantedKey = `sk-ant-api03-${randomBytes(24).toString('hex')}`;
    const body = JSON.stringify({ prompt: `my key is ${plantedKey}`, marker: 'body-marker-1' });

    const post = (extra: string[]) =>
      corral(
        [
          'shell',
          'claude',
          '--no-join',
          ...extra,
          '--',
          'sh',
          '-c',
          `curl -s -X POST -H 'content-type: application/json' --data-binary @- http://echo.test:8080/v1/echo <<'EOF'\n${body}\nEOF`,
        ],
        { cwd: ws, env },
      );
    const entries = async (): Promise<Entry[]> =>
      (await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env })).stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Entry)
        .filter((e) => e.host === 'echo.test');

    beforeAll(async () => {
      const image = await agentImage(await engineFor(kind), 'claude');
      await run(kind, ['run', '-d', '--rm', '--name', site, '--user', '1000', image, 'node', '-e', ECHO]);
      const ip = (await run(kind, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', site])).stdout.trim();
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-gw-bodies-')));
      await writeFile(
        join(ws, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          '  allow: ["echo.test:8080"]',
          `  hosts: { echo.test: ${ip} }`,
          '',
        ].join('\n'),
      );
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'config.yaml'),
        CORRAL_DATA_DIR: join(ws, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
    });

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env });
      await run(kind, ['rm', '-f', site]).catch(() => {});
    });

    it('logs no body unless asked', async () => {
      const r = await post([]);
      expect(r.code).toBe(0);
      // The request really went through: the echo carries the key back to the sandbox.
      expect(r.stdout).toContain('body-marker-1');
      const [e] = await entries();
      expect(e).toMatchObject({ method: 'POST', status: 200 });
      expect(e).not.toHaveProperty('requestBody');
      expect(e).not.toHaveProperty('responseBody');
    });

    it('with --log-bodies, shows both bodies with the planted key redacted', async () => {
      const r = await post(['--log-bodies']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('body-marker-1');
      const e = (await entries()).at(-1)!;
      expect(e.requestBody?.text).toContain('body-marker-1');
      expect(e.requestBody?.text).toContain('my key is [redacted]');
      expect(e.responseBody?.text).toContain('body-marker-1');
      expect(e.responseBody?.text).toContain('my key is [redacted]');
      const text = await corral(['egress', 'log', '-n', '0'], { cwd: ws, env });
      expect(text.stdout).toMatch(/\n {2}request body: .*body-marker-1/);
      expect(text.stdout).toMatch(/\n {2}response body: .*body-marker-1/);
      const json = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      expect(text.stdout + json.stdout).not.toContain(plantedKey);
      // Nor anywhere in what corral keeps on disk for the gateway.
      const grep = await run('grep', ['-rlF', plantedKey, join(ws, '.data')]).catch(
        (e: { code?: number; stdout?: string }) => e,
      );
      expect((grep as { code?: number }).code).toBe(1);
    });
  });
}
