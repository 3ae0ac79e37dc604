/** Engine API error helpers shared by the engine implementations. */

export function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e
    ? (e as { statusCode: number }).statusCode
    : undefined;
}

/**
 * The object is not there. Podman answers 500, not 404, when an auto-remove container vanishes
 * while it is being inspected or acted on; that is "gone" too.
 */
export function isMissing(e: unknown): boolean {
  const code = statusOf(e);
  if (code === 404) return true;
  return code === 500 && /no such container|does not exist in database/i.test(String((e as Error)?.message));
}

export async function exists(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

export async function ignoreMissing(action: () => Promise<unknown>, codes: number[] = [404]): Promise<void> {
  try {
    await action();
  } catch (e) {
    const code = statusOf(e);
    if (code !== undefined && codes.includes(code)) return;
    if (codes.includes(404) && isMissing(e)) return;
    throw e;
  }
}

export function splitTag(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, 'latest'];
}
