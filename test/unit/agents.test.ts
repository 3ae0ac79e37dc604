import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent, renderEndpoint, resolveAgent } from '../../src/agents/index.js';
import { AgentSpecSchema } from '../../src/agents/schema.js';
import { CorralError } from '../../src/errors.js';

describe('agent specs', () => {
  it('has all eight agents with unique names and aliases', () => {
    expect(AGENTS.map((a) => a.name)).toEqual([
      'claude',
      'gemini',
      'opencode',
      'devstral',
      'auggie',
      'copilot',
      'codex',
      'pi',
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
