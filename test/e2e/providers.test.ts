/**
 * Named model providers end to end: `corral provider add` discovers the scripted model's list, then
 * real agent CLIs run with `--provider` (no --model-url, no --allow-host) behind the gateway. The
 * provider's key stays on the host: the model server sees the real key (the gateway injected it),
 * while a scan from inside the sandbox, run by the agent's own shell tool, finds it nowhere.
 */
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

const PROMPT = 'Write result.txt as instructed.';

interface Case {
  agent: string;
  provider: 'ant' | 'oai';
  flags: string[];
  model: string;
}

// Codex keeps its classic tool protocol with gpt-5-codex, the OpenAI provider's default here.
const CASES: Case[] = [
  {
    agent: 'claude',
    provider: 'ant',
    flags: ['--yolo', '--model', 'corral-scripted'],
    model: 'corral-scripted',
  },
  { agent: 'codex', provider: 'oai', flags: [], model: 'gpt-5-codex' },
];

for (const kind of TEST_ENGINES) {
  describe(`model providers on ${kind}`, () => {
    let server: ModelServer;
    let dataDir: string;
    const marker = `prov-${kind}-${Date.now()}`;
    // Two keys, so each run proves its own provider's key was the one injected.
    const keys = {
      ant: `sk-ant-api03-${marker}-anthropic-provider-secret`,
      oai: `sk-proj-${marker}-openai-provider-secret`,
    };
    const env = () => ({ CORRAL_ENGINE: kind, CORRAL_DATA_DIR: dataDir, CORRAL_KEYRING: 'off' });
    // The secret split in two, so the scanning command's own argv does not match itself.
    const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'corral-providers-'));
      // /bin/grep: Claude Code's shell tool turns a bare `grep` into its own ripgrep, which skips /proc.
      const scan = `/bin/grep -rlF ${needle(keys.ant)} ${needle(keys.oai)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline $HOME /tmp /run/corral /workspace /etc 2>/dev/null > leaks.txt`;
      const script = await parseScript(
        `turns:\n  - say: Checking and writing.\n    run: ${JSON.stringify(`${scan}; id -u | sed "s/^/${marker} from /" > result.txt`)}\n  - text: Wrote result.txt.\n`,
        'providers script',
      );
      server = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: isLocalOrContainerAddress,
        recordBodies: true,
        models: ['corral-scripted', 'gpt-5-codex'],
      });
    });

    afterAll(async () => {
      await server?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('adds providers with the models their endpoints list, and never prints or exports a key', async () => {
      const ant = await corral(
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
        { env: { ...env(), K: keys.ant } },
      );
      expect(ant.code, ant.stderr).toBe(0);
      expect(JSON.parse(ant.stdout)).toMatchObject({
        name: 'ant',
        kind: 'anthropic',
        models: ['corral-scripted', 'gpt-5-codex'],
        defaultModel: 'corral-scripted',
        key: true,
      });
      // The key on stdin (not a terminal); a /v1 suffix is the endpoint root all the same.
      const oai = await corral(
        ['provider', 'add', 'oai', '--kind', 'openai', '--url', `${server.url}/v1`, '--model', 'gpt-5-codex'],
        { env: env(), input: `${keys.oai}\n` },
      );
      expect(oai.code, oai.stderr).toBe(0);
      const list = await corral(['provider', 'list', '--json'], { env: env() });
      const exported = await corral(['provider', 'export'], { env: env() });
      for (const r of [ant, oai, list, exported]) {
        expect(r.stdout + r.stderr).not.toContain(keys.ant);
        expect(r.stdout + r.stderr).not.toContain(keys.oai);
      }
      expect(JSON.parse(list.stdout).map((p: { name: string; url: string }) => [p.name, p.url])).toEqual([
        ['ant', server.url],
        ['oai', server.url],
      ]);
      expect(JSON.parse(exported.stdout).providers[1]).toMatchObject({
        name: 'oai',
        default_model: 'gpt-5-codex',
      });
      // An export imports elsewhere, asking for the keys it does not carry (here: from the env).
      const other = { ...env(), CORRAL_DATA_DIR: join(dataDir, 'elsewhere') };
      const file = join(dataDir, 'providers-export.json');
      await writeFile(file, exported.stdout);
      const imported = await corral(['provider', 'import', file, '--key-from-env', 'K', '--json'], {
        env: { ...other, K: 'sk-imported-key-0123456789' },
      });
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout).map((p: { name: string; key: boolean }) => [p.name, p.key])).toEqual(
        [
          ['ant', true],
          ['oai', true],
        ],
      );
      expect(imported.stdout + imported.stderr).not.toContain('sk-imported-key');
      // Without a terminal and without the file, it says how instead of reading keys from the export.
      const noFile = await corral(['provider', 'import'], { env: other, input: exported.stdout });
      expect(noFile.code).not.toBe(0);
      expect(noFile.stderr).toContain('Give the export as a file');
      const wrong = await corral(['run', 'claude', '--provider', 'oai', '--prompt', 'x'], { env: env() });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/anthropic API; provider "oai" is of kind openai/);
    });

    for (const c of CASES) {
      it(`${c.agent} runs against --provider ${c.provider} with the key injected by the gateway, never in the sandbox`, async () => {
        await agentImage(await engineFor(kind), c.agent);
        const ws = await realpath(await tempWorkspace(`corral-prov-${c.agent}-`));
        const before = server.requests.length;
        try {
          const r = await corral(
            [
              'run',
              c.agent,
              '--network',
              'gateway',
              '--provider',
              c.provider,
              '--prompt',
              PROMPT,
              ...c.flags,
            ],
            { cwd: ws, env: env() },
          );
          const served = server.requests.slice(before);
          if (r.code !== 0) console.error(r.stdout, r.stderr, served);
          expect(r.code).toBe(0);
          expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(`${marker} from 1000\n`);
          expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());
          // Nothing inside the sandbox held either key: env, argv, home (the agent's config), /tmp…
          expect(await readFile(join(ws, 'leaks.txt'), 'utf8')).toBe('');
          const turns = served.filter((s) => s.step !== null);
          expect(turns.map((s) => s.step)).toEqual(expect.arrayContaining([0, 1]));
          // …while the model server got the real key on every turn, and the chosen model.
          for (const t of turns) {
            expect(t.key?.replace(/^Bearer /, '')).toBe(keys[c.provider]);
            expect(t.body).toContain(`"model":"${c.model}"`);
          }
          expect(r.stdout + r.stderr).not.toContain(keys[c.provider]);
        } finally {
          await corral(['clean'], { cwd: ws, env: env() });
        }
      }, 600_000);
    }
  });
}
