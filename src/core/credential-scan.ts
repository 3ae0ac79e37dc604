/**
 * The pre-mount secret scan on its own (`corral scan`): for CI and for triaging findings before a
 * start asks. It reads every file (no cache): it is the check to trust when in doubt.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { DEFAULT_BUDGET_MS, type Finding, scanWorkspace } from '../credentials/scan.js';
import { allowFinding, maskFinding, untriaged } from '../credentials/triage.js';
import { CorralError } from '../errors.js';
import { hiddenInside, privateDirs } from '../sandbox/hidden.js';
import { readMasks } from '../sandbox/masks.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import { printable } from './scan-prompt.js';
import type { ScanInput } from './types.js';

export type { Finding };

export interface ScanReport {
  workspace: string;
  /** false: the budget ran out before every file was read. */
  complete: boolean;
  filesScanned: number;
  /** Findings allowed or masked earlier (not in `findings`). */
  allowed: number;
  /** Findings nobody has decided on. */
  findings: Finding[];
  /** The budget the scan ran with, in ms. */
  budgetMs: number;
}

/** `allow`/`mask` take paths as the user typed them; findings use workspace-relative POSIX paths. */
function toFindingPath(workspace: string, given: string): string {
  const rel = isAbsolute(given) ? relative(workspace, given) : given;
  return rel.split(sep).join('/').replace(/^\.\//, '');
}

/**
 * Scan a workspace (progress: the caller's events), then allow or mask the named files' findings as
 * they are now; the findings still open.
 */
export async function scanForCredentials(ctx: CoreContext, input: ScanInput): Promise<ScanReport> {
  const ws = await resolveWorkspace(input.workdir ?? ctx.cwd);
  const config = await ctx.config(ws.path);
  const shown = ctx.events.scanProgress?.();
  const result = await scanWorkspace(ws.path, {
    ...(input.budgetMs !== undefined ? { budgetMs: input.budgetMs } : {}),
    // What a sandbox never sees from the host: corral's own folders and masked ones.
    skip: [...hiddenInside(ws.path, privateDirs(ctx.env)), ...(config.masks ?? []), ...(await readMasks(ws))],
    ...(shown ? { onProgress: shown.onProgress } : {}),
  }).finally(() => shown?.done());

  const decide = async (given: string, verb: 'allow' | 'mask') => {
    const path = toFindingPath(ws.path, given);
    const match = result.findings.find((f) => f.path === path);
    if (!match) {
      throw new CorralError(
        'BAD_INPUT',
        `There is no finding in ${printable(path)} to ${verb}.`,
        'Run `corral scan` to list the files with findings, and pass one of those paths.',
      );
    }
    await (verb === 'allow' ? allowFinding : maskFinding)(ws.path, match);
  };
  const both = (input.allow ?? []).filter((p) => (input.mask ?? []).includes(p));
  if (both.length) throw new CorralError('BAD_INPUT', `Allow or mask ${printable(both[0]!)}, not both.`);
  for (const given of input.allow ?? []) await decide(given, 'allow');
  for (const given of input.mask ?? []) await decide(given, 'mask');
  const open = await untriaged(ws.path, result.findings);
  return {
    workspace: ws.path,
    complete: result.complete,
    filesScanned: result.filesScanned,
    allowed: result.findings.length - open.length,
    findings: open,
    budgetMs: input.budgetMs ?? DEFAULT_BUDGET_MS,
  };
}
