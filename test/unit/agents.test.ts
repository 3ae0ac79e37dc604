import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent, renderEndpoint, resolveAgent } from '../../src/agents/index.js';
import { AgentSpecSchema } from '../../src/agents/schema.js';
import type { ContainerEngine } from '../../src/engine/index.js';
import { CorralError } from '../../src/errors.js';
import { ensureAgentImage } from '../../src/images/build.js';

describe('agent specs', () => {
  it('has every agent with unique names and aliases', () => {
    expect(AGENTS.map((a) => a.name)).toEqual([
      'claude',
      'gemini',
      'opencode',
      'devstral',
      'auggie',
      'copilot',
      'codex',
      'pi',
      'qwen',
      'cline',
      'kilo',
      'crush',
      'aider',
      'hermes',
      'codebuff',
    ]);
    const words = AGENTS.flatMap((a) => [a.name, ...a.aliases.filter((x) => x !== a.name)]);
    expect(new Set(words).size).toBe(words.length);
  });

  it.each([
    ['c', 'claude'],
    ['g', 'gemini'],
    ['o', 'opencode'],
    ['vibe', 'devstral'],
    ['d', 'devstral'],
    ['a', 'auggie'],
    ['p', 'copilot'],
    ['x', 'codex'],
    ['pi', 'pi'],
    ['q', 'qwen'],
    ['cl', 'cline'],
    ['kilocode', 'kilo'],
    ['cr', 'crush'],
    ['freebuff', 'codebuff'],
    ['h', 'hermes'],
    ['ai', 'aider'],
  ])('resolves alias %s to %s', (alias, name) => {
    expect(resolveAgent(alias).name).toBe(name);
  });

  it('uses each CLI’s own autonomy flag', () => {
    const yolo = Object.fromEntries(AGENTS.map((a) => [a.name, a.yoloArgs]));
    expect(yolo.claude).toEqual(['--dangerously-skip-permissions']);
    expect(yolo.gemini).toEqual(['--approval-mode=yolo']);
    expect(yolo.devstral).toEqual(['--auto-approve']);
    expect(yolo.copilot).toEqual(['--yolo']);
    expect(yolo.codex).toEqual(['--dangerously-bypass-approvals-and-sandbox']);
    expect(yolo.qwen).toEqual(['--yolo']);
    expect(yolo.aider).toEqual(['--yes-always']);
    expect(yolo.hermes).toEqual(['--yolo']);
    // Cline and Kilo auto-approve in a headless prompt already; their flag is for the TUI.
    expect(resolveAgent('cline').headlessYoloArgs).toEqual([]);
    expect(resolveAgent('kilo').headlessYoloArgs).toEqual([]);
  });

  it('names resume and ACP commands where the CLI has them', () => {
    const resume = Object.fromEntries(AGENTS.map((a) => [a.name, a.resumeArgs]));
    expect(resume.qwen).toEqual(['--continue']);
    expect(resume.kilo).toEqual(['--continue']);
    expect(resume.aider).toEqual(['--restore-chat-history']);
    const acp = Object.fromEntries(AGENTS.map((a) => [a.name, a.acp]));
    expect(acp.qwen).toEqual({ args: ['--acp'] });
    expect(acp.cline).toEqual({ args: ['--acp'] });
    expect(acp.kilo).toEqual({ args: ['acp'] });
    expect(acp.hermes).toEqual({ command: ['hermes', 'acp'], args: [] });
  });

  it('says why an agent cannot be installed here, in its spec and its notes', () => {
    for (const name of ['crush', 'codebuff']) {
      const a = resolveAgent(name);
      expect(a.unavailable, name).toMatch(/github\.com/);
      expect(a.notes.join(' '), name).toMatch(/not installable here/);
    }
  });

  it('stops the image build of an agent that cannot be installed here, with the reason', async () => {
    const engine = { imageExists: async () => false } as unknown as ContainerEngine;
    const err = await ensureAgentImage(engine, resolveAgent('crush'), {
      settings: { cacheDir: '/nonexistent', hostCa: 'off' },
    })
      .then(() => undefined)
      .catch((e: CorralError) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err!.message).toContain('Crush cannot be installed here');
    expect(err!.hint).toContain('agents.crush.image');
  });

  it('renders the new agents’ endpoint files as valid JSON pointing at the endpoint', () => {
    const values = { baseUrl: 'http://h:1', apiKey: 'K"EY' };
    const cline = renderEndpoint(resolveAgent('cline'), values);
    const providers = JSON.parse(cline.files['.cline/data/settings/providers.json']!);
    expect(providers.providers['openai-compatible'].settings).toMatchObject({
      baseUrl: 'http://h:1/v1',
      apiKey: 'K"EY',
    });
    const kilo = JSON.parse(renderEndpoint(resolveAgent('kilo'), values).files['.config/kilo/kilo.json']!);
    expect(kilo.provider.corral.options).toEqual({ baseURL: 'http://h:1/v1', apiKey: 'K"EY' });
    const qwen = renderEndpoint(resolveAgent('qwen'), values);
    expect(qwen.env).toMatchObject({ OPENAI_BASE_URL: 'http://h:1/v1', OPENAI_API_KEY: 'K"EY' });
    expect(JSON.parse(qwen.files['.qwen/settings.json']!).security.auth.selectedType).toBe('openai');
    const crush = JSON.parse(
      renderEndpoint(resolveAgent('crush'), values).files['.config/crush/crush.json']!,
    );
    expect(crush.providers.corral.base_url).toBe('http://h:1/v1');
    expect(renderEndpoint(resolveAgent('aider'), values).env.OPENAI_API_BASE).toBe('http://h:1/v1');
  });

  it('explains a missing yolo flag or endpoint in notes', () => {
    for (const a of AGENTS) {
      if (a.yoloArgs.length === 0 || !a.endpoint) expect(a.notes.length, a.name).toBeGreaterThan(0);
    }
  });

  it('pins exact versions and keeps state paths inside $HOME', () => {
    for (const a of AGENTS) {
      expect(a.install.version, a.name).toMatch(/^\d+\.\d+\.\d+$/);
      for (const p of a.statePaths) {
        expect(p.startsWith('/') || p.split('/').includes('..'), `${a.name}: ${p}`).toBe(false);
      }
      expect(
        a.authEnv.every((e) => /^[A-Z][A-Z0-9_]*$/.test(e)),
        a.name,
      ).toBe(true);
    }
  });

  it('suggests the closest name for a typo', () => {
    const err = (() => {
      try {
        resolveAgent('claud');
      } catch (e) {
        return e as CorralError;
      }
    })();
    expect(err).toBeInstanceOf(CorralError);
    expect(err!.code).toBe('AGENT_UNKNOWN');
    expect(err!.message).toContain('Did you mean "claude"');
    expect(findAgent('nope')).toBeUndefined();
  });

  it('renders endpoint recipes without leftover placeholders', () => {
    for (const a of AGENTS.filter((x) => x.endpoint)) {
      const r = renderEndpoint(a, { baseUrl: 'http://h:1', apiKey: 'KEY', prompt: 'do it' });
      const all = JSON.stringify(r);
      expect(all, a.name).not.toMatch(/\{(baseUrl|apiKey|prompt)\}/);
      expect(r.promptArgs, a.name).toContain('do it');
      expect(all.includes('http://h:1'), a.name).toBe(true);
    }
    const codex = renderEndpoint(resolveAgent('codex'), { baseUrl: 'http://h:1', apiKey: 'KEY' });
    expect(codex.files['.codex/config.toml']).toContain('base_url = "http://h:1/v1"');
    expect(codex.env.OPENAI_API_KEY).toBe('KEY');
  });

  it('every spec satisfies the schema, which rejects invalid specs', () => {
    for (const a of AGENTS) expect(AgentSpecSchema.parse(a), a.name).toEqual(a);
    expect(AgentSpecSchema.safeParse({ ...AGENTS[0], name: 'Bad Name' }).success).toBe(false);
    expect(AgentSpecSchema.safeParse({ ...AGENTS[0], command: [] }).success).toBe(false);
  });
});
