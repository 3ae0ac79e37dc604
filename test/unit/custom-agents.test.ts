/** Custom agents from config: validation with file and key, the spec they map to, and trust. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { customAgent } from '../../src/agents/custom.js';
import { loadConfig } from '../../src/config/load.js';
import { restrictUntrusted } from '../../src/config/trust.js';
import type { CorralError } from '../../src/errors.js';
import { customAgentRecipe } from '../../src/images/custom.js';

async function load(yaml: string): Promise<{ error?: CorralError; path: string; config?: unknown }> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-custom-unit-'));
  const path = join(dir, 'config.yaml');
  await writeFile(path, yaml);
  try {
    return { path, config: (await loadConfig({ path, env: {} })).config };
  } catch (e) {
    return { path, error: e as CorralError };
  }
}

describe('custom agents in config', () => {
  it('accepts a complete one', async () => {
    const r = await load(
      'agents:\n  mytool:\n    image: example/mytool:1\n    command: [mytool]\n    keys: [MYTOOL_KEY, {env: OTHER_KEY, host: api.x.example}]\n',
    );
    expect(r.error).toBeUndefined();
  });

  it.each([
    ['agents:\n  mytool:\n    image: x\n', 'agents.mytool.command', 'not a built-in agent'],
    ['agents:\n  mytool:\n    command: [m]\n', 'agents.mytool.image', 'exactly one of image'],
    [
      'agents:\n  mytool:\n    command: [m]\n    image: x\n    containerfile: /c\n',
      'agents.mytool.image',
      'exactly one of image',
    ],
    [
      'agents:\n  mytool:\n    command: [m]\n    containerfile: rel/Containerfile\n',
      'agents.mytool.containerfile',
      'absolute path',
    ],
    ['agents:\n  claude:\n    command: [bash]\n', 'agents.claude.command', 'claude is built in'],
    ['agents:\n  My_Tool:\n    command: [m]\n    image: x\n', 'agents.My_Tool', 'lowercase'],
    [
      'agents:\n  mytool:\n    command: [m]\n    image: x\n    home: [../etc]\n',
      'agents.mytool.home[0]',
      'relative to $HOME',
    ],
    [
      'agents:\n  mytool:\n    command: [m]\n    image: x\n    keys: [lower]\n',
      'agents.mytool.keys[0]',
      'variable name',
    ],
    [
      'agents:\n  mytool:\n    command: [m]\n    image: x\n    version: "1"\n',
      'agents.mytool.version',
      'no version',
    ],
  ])('rejects %j naming %s', async (yaml, key, expected) => {
    const r = await load(yaml);
    expect(r.error?.code).toBe('CONFIG_INVALID');
    expect(r.error?.message).toContain(r.path);
    expect(r.error?.message).toContain(key);
    expect(r.error?.message).toContain(expected);
  });

  it('maps to an agent spec: yolo, headless, home, hosts and keys', () => {
    const spec = customAgent('mytool', {
      image: 'x',
      command: ['mytool', '--tui'],
      yolo_args: ['--yes'],
      headless_args: ['-p', '{prompt}'],
      home: ['.mytool'],
      api_hosts: ['api.mytool.example'],
      keys: ['PLAIN_KEY', { env: 'INJECTED_KEY', host: 'api.mytool.example', header: 'x-api-key' }],
    });
    expect(spec).toMatchObject({
      name: 'mytool',
      command: ['mytool', '--tui'],
      yoloArgs: ['--yes'],
      headlessArgs: ['-p', '{prompt}'],
      statePaths: ['.mytool'],
      apiDomains: ['api.mytool.example'],
      authEnv: ['PLAIN_KEY', 'INJECTED_KEY'],
      injectable: [{ env: 'INJECTED_KEY', host: 'api.mytool.example', header: 'x-api-key' }],
    });
    // Never built by corral from an install recipe.
    expect(spec.unavailable).toContain('agents.mytool.image');
    expect(customAgent('t', { image: 'x', command: ['t'] }).statePaths).toEqual(['.config/t']);
  });

  it('an untrusted project config cannot define one', () => {
    const { safe, skipped } = restrictUntrusted({
      default_agent: 'mytool',
      agents: { mytool: { image: 'evil/image', command: ['sh'] } },
    });
    expect(safe).toEqual({ default_agent: 'mytool' });
    expect(skipped.join(' ')).toContain('agents.mytool');
  });

  it('builds a containerfile onto corral’s Node image and refuses a FROM of its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-custom-cf-'));
    await writeFile(join(dir, 'ok'), 'RUN npm install -g mytool@1\n');
    const recipe = await customAgentRecipe('localhost/corral/node:abc', 'mytool', join(dir, 'ok'));
    expect(recipe.containerfile.split('\n').slice(0, 3)).toEqual([
      'FROM localhost/corral/node:abc',
      'USER root',
      'RUN npm install -g mytool@1',
    ]);
    expect(recipe.tag).toMatch(/^localhost\/corral\/custom-mytool:/);
    await writeFile(join(dir, 'bad'), '# x\nFROM debian\n');
    await expect(customAgentRecipe('n', 'mytool', join(dir, 'bad'))).rejects.toThrow(
      /bad:2: remove this FROM/,
    );
  });
});
