/** `corral auth doctor` with no agent: what every kept login exposes inside the sandbox. */
import { AGENTS } from '../agents/index.js';
import type { ExposureRow } from '../auth/exposure.js';
import type { CoreContext } from './context.js';

export type { ExposureRow };

export async function loginExposure(_ctx: CoreContext, input: { profile: string }): Promise<ExposureRow[]> {
  const { loginExposures } = await import('../auth/exposure.js');
  return loginExposures(AGENTS, input.profile);
}
