import { describe, expect, it } from 'vitest';
import { exists, ignoreMissing } from '../../src/engine/errors.js';

const fail = (statusCode: number, message: string) => async () => {
  throw Object.assign(new Error(message), { statusCode });
};

describe('a container that vanished mid-call', () => {
  it("counts Podman's 500 as missing in ignoreMissing, and nothing else", async () => {
    await expect(ignoreMissing(fail(404, 'no such container'))).resolves.toBeUndefined();
    await expect(
      ignoreMissing(fail(500, 'container abc does not exist in database: no such container')),
    ).resolves.toBeUndefined();
    await expect(ignoreMissing(fail(500, 'runc: permission denied'))).rejects.toThrow('permission denied');
    await expect(ignoreMissing(fail(500, 'no such container'), [409])).rejects.toThrow();
  });

  it('makes exists() answer false, and still throws real failures', async () => {
    await expect(
      exists(fail(500, 'container x does not exist in database: no such container')),
    ).resolves.toBe(false);
    await expect(exists(fail(500, 'runc: permission denied'))).rejects.toThrow('permission denied');
  });
});
