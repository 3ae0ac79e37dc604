import { describe, expect, it } from 'vitest';
import { homeVolumeName, validateProfile } from '../../src/workspace/identity.js';

describe('profile names', () => {
  it('accepts short lowercase names', () => {
    for (const name of ['default', 'work', 'custom-model', 'a', 'team_2', '0day']) {
      expect(validateProfile(name)).toBe(name);
    }
    expect(homeVolumeName({ id: 'abc' }, 'claude', 'work')).toBe('corral-abc-claude-work-home');
  });

  it('refuses names that could be paths, options or surprises, with a hint', () => {
    for (const name of ['', '..', '../default', 'a/b', 'Work', '-rf', '_x', 'a b', 'x'.repeat(33), 'é']) {
      expect(() => validateProfile(name), name).toThrow(/Invalid profile name/);
    }
    expect(() => homeVolumeName({ id: 'abc' }, 'claude', '../default')).toThrow(/Invalid profile name/);
    try {
      validateProfile('Bad');
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/lowercase/);
    }
  });
});
