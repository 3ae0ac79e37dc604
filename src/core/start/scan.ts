/**
 * The credential check before a sandbox starts (`corral run`, `corral shell`): scan the workspace
 * with its cache (credentials/scan-cache.ts), then, for findings nobody has decided on yet, ask at a
 * terminal (mask, allow or abort) or, without one, refuse to start. Masked files are returned for
 * the sandbox to shadow with an empty read-only file.
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { DEFAULT_BUDGET_MS, type Finding } from '../../credentials/scan.js';
import { scanWithCache } from '../../credentials/scan-cache.js';
import { allowFinding, maskedFor, maskFinding, untriaged } from '../../credentials/triage.js';
import { CorralError } from '../../errors.js';
import { hiddenInside, privateDirs } from '../../sandbox/hidden.js';
import { trace } from '../../trace.js';
import type { Workspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import { findingLines, printable } from '../scan-prompt.js';

/** More than this many findings are summarised in the refusal (`corral scan` lists them all). */
const LIST_LIMIT = 20;

export interface CheckRequest {
  /** false: --no-credential-check. */
  credentialCheck?: boolean;
  dryRun?: boolean;
  /** Masked folders (volumes cover them in the sandbox, so their host files are not scanned). */
  maskDirs: string[];
}

/** Workspace folders a sandbox never sees from the host: corral's own and the masked ones. */
const unseen = (ctx: CoreContext, ws: Workspace, maskDirs: string[]) => [
  ...hiddenInside(ws.path, privateDirs(ctx.env)),
  ...maskDirs,
];

/** Remembered masks that still name a regular file, reached through no symlink. */
async function maskedFiles(ws: Workspace, skip: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const { path } of await maskedFor(ws.path)) {
    if (skip.some((s) => path === s || path.startsWith(`${s}/`))) continue;
    const abs = join(ws.path, path);
    if ((await realpath(abs).catch(() => undefined)) !== abs) continue;
    out.push(path);
  }
  return out;
}

export function refusal(ws: Workspace, open: Finding[]): CorralError {
  const files = new Set(open.map((f) => f.path)).size;
  const shown = findingLines(open.slice(0, LIST_LIMIT)).map((l) => `  ${l}`);
  if (open.length > LIST_LIMIT)
    shown.push(`  … and ${open.length - LIST_LIMIT} more (\`corral scan\` lists all)`);
  return new CorralError(
    'SECRETS_FOUND',
    `Not starting: ${open.length} possible credential${open.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} of ${printable(ws.path)} would be visible in the sandbox, and there is no terminal to ask:\n${shown.join('\n')}`,
    'Look at each file, then allow it as it is (`corral scan --allow <path>`), hide it from the sandbox (`corral scan --mask <path>`), or skip the check for this start with --no-credential-check (`credential_check: false` in your config turns it off).',
  );
}

/**
 * Scan and triage before a start; returns the workspace files to mask in the sandbox. Throws a
 * CorralError when findings stay untriaged (no terminal, or the user aborted).
 */
export async function checkCredentials(
  ctx: CoreContext,
  ws: Workspace,
  config: Config,
  req: CheckRequest,
): Promise<string[]> {
  const skip = unseen(ctx, ws, req.maskDirs);
  if (req.credentialCheck === false || !config.credential_check || req.dryRun) return maskedFiles(ws, skip);
  const shown = ctx.events.scanProgress?.();
  const result = await scanWithCache(ws, {
    skip,
    ...(shown ? { onProgress: shown.onProgress } : {}),
  }).finally(() => shown?.done());
  trace(`scan (${result.filesRead}/${result.filesScanned} read)`);
  if (!result.complete) {
    ctx.note(
      `corral: warning: the credential scan stopped after ${DEFAULT_BUDGET_MS} ms with ${result.filesScanned} files checked; the rest of this workspace was not checked (the next start continues from the cache; \`corral scan --budget 60000\` checks it all now)`,
    );
  }
  const open = await untriaged(ws.path, result.findings);
  if (open.length) {
    if (!ctx.events.askCredentials) throw refusal(ws, open);
    const decisions = await ctx.events.askCredentials(open);
    if (!decisions) {
      throw new CorralError(
        'SECRETS_FOUND',
        'Not started: you aborted at the credential check.',
        'Run `corral scan` to review the findings.',
      );
    }
    const done: string[] = [];
    for (const [path, decision] of decisions) {
      const finding = open.find((f) => f.path === path)!;
      if (decision === 'mask') await maskFinding(ws.path, finding);
      else await allowFinding(ws.path, finding);
      done.push(`${decision === 'mask' ? 'masked' : 'allowed'} ${printable(path)}`);
    }
    ctx.note(
      `corral: ${done.join(', ')} (remembered for this workspace; \`corral scan\` shows what is left)`,
    );
  }
  return maskedFiles(ws, skip);
}
