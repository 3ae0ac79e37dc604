/** Label filters mean AND on every engine (Podman 4.3's compat API ORs them for volumes). */
import { describe, expect, it } from 'vitest';
import { hasLabels } from '../../src/engine/docker-resources.js';

describe('label filters', () => {
  const home = { 'io.corral.workspace': 'w1', 'io.corral.role': 'state' };
  const data = { 'io.corral.workspace': 'w1', 'io.corral.role': 'service-data', 'io.corral.service': 'db' };
  it('hold only when every filter holds', () => {
    const f = ['io.corral.workspace=w1', 'io.corral.role=service-data', 'io.corral.service=db'];
    expect(hasLabels(data, f)).toBe(true);
    expect(hasLabels(home, f)).toBe(false);
    expect(hasLabels(data, ['io.corral.service=other'])).toBe(false);
  });
  it('take a bare key as "has the label"', () => {
    expect(hasLabels(home, ['io.corral.role'])).toBe(true);
    expect(hasLabels(home, ['io.corral.service'])).toBe(false);
    expect(hasLabels(home, [])).toBe(true);
  });
});
