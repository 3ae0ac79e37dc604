import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chosenVersion, readPins, writePin } from '../../src/images/pins.js';

describe('update pins', () => {
  it('records versions per agent and keeps the others', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'corral-pins-')), 'sub', 'versions.json');
    expect(await readPins(path)).toEqual({});
    await writePin('claude', '2.2.0', path);
    await writePin('codex', '0.170.0', path);
    await writePin('claude', '2.2.1', path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ claude: '2.2.1', codex: '0.170.0' });
  });

  it('treats a corrupt file as no pins rather than failing every run', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'corral-pins-')), 'versions.json');
    await writeFile(path, '{not json');
    expect(await readPins(path)).toEqual({});
  });

  it('lets config win over an update pin', () => {
    expect(chosenVersion('1.0.0', { claude: '2.0.0' }, 'claude')).toBe('1.0.0');
    expect(chosenVersion(undefined, { claude: '2.0.0' }, 'claude')).toBe('2.0.0');
    expect(chosenVersion(undefined, {}, 'claude')).toBeUndefined();
  });
});
