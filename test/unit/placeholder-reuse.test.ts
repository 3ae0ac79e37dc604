/**
 * A run with the same key as the lingering gateway serves reuses that placeholder (so its settings
 * match and nothing is handed over); anything else gets a new random one.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findAgent } from '../../src/agents/index.js';
import { servedPlaceholders } from '../../src/gateway/folders.js';
import { placeholderFor, placeholderReusing, withPlaceholders } from '../../src/workspace/placeholders.js';
import { withSecrets } from '../../src/workspace/secrets.js';

// Token-shaped values are made here, never written out whole.
const key = ['sk', 'ant', 'api03', 'x'.repeat(80)].join('-');
const other = ['sk', 'ant', 'api03', 'y'.repeat(80)].join('-');

describe('placeholder reuse', () => {
  it('keeps the served placeholder of the same value, of the same shape', () => {
    const served = new Map([[key, placeholderFor(key)]]);
    expect(placeholderReusing(key, true, served)).toBe(served.get(key));
    expect(placeholderReusing(other, true, served)).not.toBe(served.get(key));
    expect(placeholderReusing(key, true, new Map())).not.toBe(served.get(key));
  });

  it('never reuses a placeholder of another shape or carrying key material', () => {
    // A served entry that is not one corral makes (or was made with a kept prefix for a value that
    // must now keep none) is not reused: its text could be anything.
    const withPrefix = placeholderFor(key, true);
    expect(placeholderReusing(key, false, new Map([[key, withPrefix]]))).toMatch(/^corral[0-9a-f]{24}x+$/);
    expect(placeholderReusing(key, true, new Map([[key, key]]))).not.toBe(key);
    const odd = `sk-ant-api03-${'z'.repeat(80)}`;
    expect(placeholderReusing(key, true, new Map([[key, odd]]))).not.toBe(odd);
  });

  it('reaches the agent env and the secret env alike', () => {
    const claude = findAgent('claude')!;
    const served = new Map([[key, placeholderFor(key)]]);
    const a = withPlaceholders(claude, { ANTHROPIC_API_KEY: key }, [], served);
    expect(a.env.ANTHROPIC_API_KEY).toBe(served.get(key));
    const b = withSecrets({
      env: {},
      credentials: [],
      host: { T: key },
      flags: ['T@api.example.com'],
      served,
    });
    expect(b.env.T).toMatch(/^corral/); // --secret-env keeps no prefix: the served one is not reused
    const secret = placeholderFor(key, false);
    const c = withSecrets({
      env: {},
      credentials: [],
      host: { T: key },
      flags: ['T@api.example.com'],
      served: new Map([[key, secret]]),
    });
    expect(c.env.T).toBe(secret);
  });
});

describe('servedPlaceholders', () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

  it('reads value → placeholder from the settings file, and nothing from a torn one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'corral-served-'));
    const conf = join(dir, 'conf');
    await mkdir(conf);
    const dirs = { conf } as Parameters<typeof servedPlaceholders>[0];
    expect((await servedPlaceholders(dirs)).size).toBe(0);
    const p = placeholderFor(key);
    const settings = {
      credentials: [{ host: 'api.anthropic.com', header: 'x-api-key', value: key, placeholder: p }, 7],
    };
    await writeFile(join(conf, 'gateway.json'), JSON.stringify(settings));
    expect([...(await servedPlaceholders(dirs))]).toEqual([[key, p]]);
    await writeFile(join(conf, 'gateway.json'), '{"credentials": [');
    expect((await servedPlaceholders(dirs)).size).toBe(0);
  });
});
