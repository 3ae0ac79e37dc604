import { describe, expect, it } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { resolveAgent } from '../../src/agents/index.js';
import { resolveAgentVersion } from '../../src/images/build.js';
import {
  isExactVersion,
  type PypiProject,
  parseNpmViewVersion,
  pickPypiVersion,
} from '../../src/images/versions.js';

const file = [{ yanked: false }];
const project = (versions: Record<string, { yanked?: boolean }[]>, latest = ''): PypiProject => ({
  info: { version: latest },
  releases: versions,
});
const vibe = project({
  '2.9.0': file,
  '3.0.0': file,
  '3.0.1': [{ yanked: true }],
  '3.0.2': file,
  '3.0.10': file,
  '3.1.0': file,
  '3.2.0rc1': file,
  '3.2.0.dev3': file,
  '4.0.0': [],
  '10.0.0a1': file,
});

describe('exact versions', () => {
  it('need no registry', () => {
    for (const v of ['2.1.330', '1.0.0-beta.3', '3.0.2rc1', 'v0.73.1', '2.1.0.post1']) {
      expect(isExactVersion(v), v).toBe(true);
    }
    for (const v of ['latest', '^2', '2.x', '>=3,<4', '3', '3.0', '~1.2.3', 'next']) {
      expect(isExactVersion(v), v).toBe(false);
    }
  });

  it('resolve without asking anyone: undefined is the pin, an exact version is taken as given', async () => {
    expect(await resolveAgentVersion(claude)).toEqual(claude.install);
    expect(await resolveAgentVersion(claude, '2.0.1')).toEqual({ ...claude.install, version: '2.0.1' });
    expect((await resolveAgentVersion(claude, 'v2.0.1')).version).toBe('2.0.1');
    const devstral = resolveAgent('devstral');
    expect(await resolveAgentVersion(devstral, '3.0.0')).toEqual({ ...devstral.install, version: '3.0.0' });
  });
});

describe('npm view output', () => {
  it('is a string for one match and an ascending array for a range', () => {
    expect(parseNpmViewVersion('"2.1.330"\n')).toBe('2.1.330');
    expect(parseNpmViewVersion('[\n  "2.1.1",\n  "2.1.9",\n  "2.1.10"\n]\n')).toBe('2.1.10');
    expect(parseNpmViewVersion('')).toBeUndefined();
    expect(parseNpmViewVersion('[]')).toBeUndefined();
    expect(() => parseNpmViewVersion('npm ERR! 404')).toThrow();
  });
});

describe('PyPI release picking', () => {
  it('latest is the newest final, non-yanked release that has files', () => {
    expect(pickPypiVersion(vibe, 'latest')).toBe('3.1.0');
    expect(pickPypiVersion(project({ '1.0.0b1': file }, '1.0.0b1'), 'latest')).toBe('1.0.0b1');
  });

  it('compares release numbers numerically', () => {
    expect(pickPypiVersion(vibe, '3.0')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '3.0.*')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '==3.0.*')).toBe('3.0.10');
  });

  it('understands PEP 440 clauses and npm-style shorthands', () => {
    expect(pickPypiVersion(vibe, '3')).toBe('3.1.0');
    expect(pickPypiVersion(vibe, '3.x')).toBe('3.1.0');
    expect(pickPypiVersion(vibe, '>=3,<3.1')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '~=3.0.0')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '~=3.0')).toBe('3.1.0');
    expect(pickPypiVersion(vibe, '^3.0.0')).toBe('3.1.0');
    expect(pickPypiVersion(vibe, '~3.0.0')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '<3')).toBe('2.9.0');
    expect(pickPypiVersion(vibe, '!=3.1.0, >=3')).toBe('3.0.10');
    expect(pickPypiVersion(vibe, '==3.0.1')).toBeUndefined(); // yanked
    expect(pickPypiVersion(vibe, '>=4')).toBeUndefined(); // 4.0.0 has no files
  });

  it('rejects what it cannot read', () => {
    expect(() => pickPypiVersion(vibe, 'newest')).toThrow(/cannot read/);
    expect(() => pickPypiVersion(vibe, '~=3')).toThrow(/two parts/);
    expect(() => pickPypiVersion(vibe, '>=3.*')).toThrow(/wildcard/);
  });
});
