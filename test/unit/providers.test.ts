/** Provider records, model discovery against the scripted model's lists, and a provider's run recipe. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAgent, renderEndpoint } from '../../src/agents/index.js';
import { CoreContext } from '../../src/core/context.js';
import { addProvider, exportProviders, importProviders, refreshProviders } from '../../src/core/providers.js';
import { providerEndpoint } from '../../src/core/start/provider.js';
import { applyCredentials, parseCredentials } from '../../src/gateway/credentials.js';
import { type ModelServer, startModelServer } from '../../src/model/index.js';
import { discoverModels, normalizeProviderUrl, providerKey } from '../../src/providers/index.js';

const agent = (name: string) => findAgent(name)!;
const notes: string[] = [];
const ctx = new CoreContext({
  env: {},
  cwd: '/',
  events: { note: (t) => notes.push(t), progress: () => ({}) as never, scanProgress: () => ({}) as never },
});

describe('model discovery', () => {
  let server: ModelServer;
  let dataDir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await startModelServer({ models: ['corral-scripted', 'other-model'], recordBodies: true });
    dataDir = await mkdtemp(join(tmpdir(), 'corral-prov-unit-'));
    process.env.CORRAL_DATA_DIR = dataDir;
    process.env.CORRAL_KEYRING = 'off';
  });
  afterAll(async () => {
    process.env = saved;
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(['openai', 'anthropic', 'gemini', 'ollama'] as const)(
    "reads a %s endpoint's model list",
    async (kind) => {
      expect(await discoverModels(kind, server.url, 'k')).toEqual(['corral-scripted', 'other-model']);
    },
  );

  it('names the URL and the status when the list cannot be read, never the key', async () => {
    const err = await discoverModels('ollama', `${server.url}/nothing`, 'sk-secret-unit').catch(
      (e: Error) => e,
    );
    expect(String(err)).toMatch(/nothing\/api\/tags answered 404/);
    expect(String(err)).not.toContain('sk-secret-unit');
  });

  it('normalizes endpoint roots and refuses credentials in URLs', () => {
    expect(normalizeProviderUrl('http://127.0.0.1:11434/v1/')).toBe('http://127.0.0.1:11434');
    expect(normalizeProviderUrl('https://g.example/v1beta')).toBe('https://g.example');
    expect(() => normalizeProviderUrl('https://u:p@x.example')).toThrow(/credentials/);
    expect(() => normalizeProviderUrl('ftp://x.example')).toThrow(/http/);
  });

  it('adds, refreshes, exports without the key, and imports asking for it', async () => {
    const added = await addProvider(ctx, {
      name: 'local',
      kind: 'openai',
      url: `${server.url}/v1`,
      key: 'sk-unit-secret-1',
      model: 'other-model',
    });
    expect(added).toMatchObject({
      models: ['corral-scripted', 'other-model'],
      defaultModel: 'other-model',
      key: true,
    });
    await expect(addProvider(ctx, { name: 'local', kind: 'openai', url: server.url })).rejects.toThrow(
      /exists/,
    );
    await expect(
      addProvider(ctx, { name: 'x', kind: 'openai', url: server.url, model: 'nope' }),
    ).rejects.toThrow(/lists no model "nope"/);
    await expect(addProvider(ctx, { name: 'y', kind: 'bedrock', url: server.url })).rejects.toThrow(/kind/);
    expect((await refreshProviders(ctx, { name: 'local', model: 'corral-scripted' }))[0]?.defaultModel).toBe(
      'corral-scripted',
    );
    const doc = await exportProviders([]);
    expect(JSON.stringify(doc)).not.toContain('sk-unit-secret-1');
    expect(await readFile(join(dataDir, 'providers.json'), 'utf8')).not.toContain('sk-unit-secret-1');
    const asked: string[] = [];
    const imported = await importProviders(ctx, {
      document: { ...doc, providers: doc.providers.map((p) => ({ ...p, name: 'copy' })) },
      askKey: async (p) => {
        asked.push(p.name);
        return 'sk-unit-secret-2';
      },
    });
    expect(asked).toEqual(['copy']);
    expect(imported[0]).toMatchObject({ name: 'copy', key: true, defaultModel: 'corral-scripted' });
    expect(await providerKey('copy')).toBe('sk-unit-secret-2');
    await expect(
      importProviders(ctx, {
        document: {
          corral_providers: 1,
          providers: [{ name: 'z', kind: 'openai', url: server.url, key: 'k' }],
        },
        askKey: async () => undefined,
      }),
    ).rejects.toThrow(/never carries a key/);
  });

  it("turns a provider into the agent's endpoint: a placeholder key, and a credential for the host alias", async () => {
    const run = await providerEndpoint(
      agent('codex'),
      { provider: 'local' },
      'gateway',
      'host.containers.internal',
    );
    expect(run.model).toBe('corral-scripted');
    expect(run.apiKey).not.toBe('sk-unit-secret-1');
    expect(run.apiKey.startsWith('sk-')).toBe(true);
    expect(run.credential).toMatchObject({
      host: 'host.containers.internal',
      header: 'authorization',
      value: 'sk-unit-secret-1',
      placeholder: run.apiKey,
      plain: true,
    });
    // Without the gateway nothing could swap it in: the agent gets the key itself.
    expect((await providerEndpoint(agent('codex'), { provider: 'local' }, 'open', 'x')).apiKey).toBe(
      'sk-unit-secret-1',
    );
    await expect(providerEndpoint(agent('claude'), { provider: 'local' }, 'gateway', 'x')).rejects.toThrow(
      /anthropic API; provider "local" is of kind openai/,
    );
    await expect(
      providerEndpoint(agent('codex'), { provider: 'local', model: 'gone' }, 'gateway', 'x'),
    ).rejects.toThrow(/no model "gone"/);
    // A key is sent in clear only to this machine: a plain-http provider elsewhere is refused.
    await addProvider(ctx, {
      name: 'lan',
      kind: 'openai',
      url: 'http://192.0.2.9:8080',
      key: 'sk-lan-key-1',
      discover: false,
    });
    await expect(providerEndpoint(agent('codex'), { provider: 'lan' }, 'gateway', 'x')).rejects.toThrow(
      /plain http:\/\/ on another machine/,
    );
  });
});

describe('endpoint recipes with a model', () => {
  const values = { baseUrl: 'http://h:1', apiKey: 'k', model: 'm-1' };
  it('writes the chosen model into each agent’s own provider config', () => {
    expect(renderEndpoint(agent('codex'), values).files['.codex/config.toml']).toContain('model = "m-1"');
    expect(
      renderEndpoint(agent('codex'), { ...values, model: undefined }).files['.codex/config.toml'],
    ).toContain('model = "gpt-5-codex"');
    const oc = JSON.parse(renderEndpoint(agent('opencode'), values).files['.config/opencode/opencode.json']!);
    expect(oc.model).toBe('corral/m-1');
    expect(Object.keys(oc.provider.corral.models)).toEqual(['m-1']);
    const pi = renderEndpoint(agent('pi'), values);
    expect(JSON.parse(pi.files['.pi/agent/models.json']!).providers.corral.models).toEqual([{ id: 'm-1' }]);
    expect(pi.args).toEqual(['--provider', 'corral', '--model', 'm-1']);
    expect(renderEndpoint(agent('qwen'), values).env.OPENAI_MODEL).toBe('m-1');
    expect(renderEndpoint(agent('gemini'), values).env.GEMINI_MODEL).toBe('m-1');
    expect(renderEndpoint(agent('claude'), values).env.ANTHROPIC_MODEL).toBe('m-1');
    // Claude keeps its own default model unless one is chosen.
    expect(
      renderEndpoint(agent('claude'), { ...values, model: undefined }).env.ANTHROPIC_MODEL,
    ).toBeUndefined();
  });
});

describe('credentials over plain HTTP', () => {
  const [plain, tls] = parseCredentials([
    {
      host: 'host.containers.internal',
      header: 'authorization',
      value: 'real-1',
      placeholder: 'placeholder-1',
      plain: true,
    },
    { host: 'host.containers.internal', header: 'x-api-key', value: 'real-2', placeholder: 'placeholder-2' },
  ]);
  it('injects a plain-HTTP credential on its host only, and others only over TLS', () => {
    const h: Record<string, string> = { authorization: 'Bearer placeholder-1', 'x-api-key': 'placeholder-2' };
    expect(applyCredentials([plain!, tls!], 'host.containers.internal', h, false)).toBe(1);
    expect(h).toEqual({ authorization: 'Bearer real-1', 'x-api-key': 'placeholder-2' });
    const elsewhere: Record<string, string> = { authorization: 'Bearer placeholder-1' };
    expect(applyCredentials([plain!], 'other.example', elsewhere, false)).toBe(0);
    expect(elsewhere.authorization).toBe('Bearer placeholder-1');
  });
});
