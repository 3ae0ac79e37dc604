import { describe, expect, it } from 'vitest';
import { ignoreMissing } from '../../src/engine/errors.js';

const fail = (statusCode: number, message: string) => async () => {
  throw Object.assign(new Error(message), { statusCode });
};

describe('ignoreMissing', () => {
  it("treats Podman's 500 for a container removed mid-call as missing, and nothing else", async () => {
    await expect(ignoreMissing(fail(404, 'no such container'))).resolves.toBeUndefined();
    await expect(
      ignoreMissing(fail(500, 'container abc does not exist in database: no such container')),
    ).resolves.toBeUndefined();
    await expect(ignoreMissing(fail(500, 'runc: permission denied'))).rejects.toThrow('permission denied');
    await expect(ignoreMissing(fail(500, 'no such container'), [409])).rejects.toThrow();
  });
});
