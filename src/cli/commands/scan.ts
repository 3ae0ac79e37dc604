/**
 * `corral scan [dir]`: the pre-mount secret scan on its own, for CI and for triaging findings before
 * `corral run` asks. Exit 0 when nothing is left to decide, 1 when findings are untriaged.
 * It reads every file (no cache): it is the check to trust when in doubt.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { location, printable, scanProgress } from '../../core/index.js';
import { DEFAULT_BUDGET_MS, scanWorkspace } from '../../credentials/scan.js';
import { allowFinding, maskFinding, untriaged } from '../../credentials/triage.js';
import { CorralError } from '../../errors.js';
import { hiddenInside, privateDirs } from '../../sandbox/hidden.js';
import { readMasks } from '../../sandbox/masks.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

function parseBudget(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
}

/** `--allow`/`--mask` take paths as the user typed them; findings use workspace-relative POSIX paths. */
function toFindingPath(workspace: string, given: string): string {
  const rel = isAbsolute(given) ? relative(workspace, given) : given;
  return rel.split(sep).join('/').replace(/^\.\//, '');
}

export function scanCommand(): Command {
  return new Command('scan')
    .description('look for credentials (keys, tokens, .env secrets) in a workspace before it is mounted')
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .option('--json', 'print JSON')
    .option('--budget <ms>', 'stop scanning after this many milliseconds (default 3000)', parseBudget)
    .option(
      '--allow <paths...>',
      'allow the findings in these files (relative to the workspace) as they are now; a changed file is reported again',
    )
    .option(
      '--mask <paths...>',
      'mask these files: sandboxes on this workspace see an empty read-only file in their place',
    )
    .action(
      async (
        dir: string | undefined,
        opts: { json?: boolean; budget?: number; allow?: string[]; mask?: string[] },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        const ws = await resolveWorkspace(dir ?? process.cwd());
        const config = await ctx.config(ws.path);
        const shown = scanProgress(ctx.io.stderr);
        const result = await scanWorkspace(ws.path, {
          ...(opts.budget !== undefined ? { budgetMs: opts.budget } : {}),
          // What a sandbox never sees from the host: corral's own folders and masked ones.
          skip: [
            ...hiddenInside(ws.path, privateDirs(ctx.env)),
            ...(config.masks ?? []),
            ...(await readMasks(ws)),
          ],
          onProgress: shown.onProgress,
        }).finally(shown.done);

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
        const both = (opts.allow ?? []).filter((p) => (opts.mask ?? []).includes(p));
        if (both.length)
          throw new CorralError('BAD_INPUT', `Allow or mask ${printable(both[0]!)}, not both.`);
        for (const given of opts.allow ?? []) await decide(given, 'allow');
        for (const given of opts.mask ?? []) await decide(given, 'mask');
        const open = await untriaged(ws.path, result.findings);
        const allowed = result.findings.length - open.length;

        if (opts.json) {
          ctx.json({
            workspace: ws.path,
            complete: result.complete,
            filesScanned: result.filesScanned,
            allowed,
            findings: open,
          });
        } else if (open.length) {
          ctx.print(
            await table(
              ['LOCATION', 'RULE', 'DESCRIPTION', 'SHAPE'],
              open.map((f) => [location(f), f.rule, f.description, f.preview]),
            ),
          );
        }
        if (!opts.json) {
          const tail = allowed ? ` (${allowed} allowed or masked earlier, not shown)` : '';
          ctx.note(
            open.length
              ? `${open.length} finding${open.length === 1 ? '' : 's'} in ${new Set(open.map((f) => f.path)).size} file(s)${tail}; after checking a file, allow it with \`corral scan --allow <path>\` or hide it from sandboxes with \`corral scan --mask <path>\``
              : `no untriaged findings in ${result.filesScanned} files${tail}`,
          );
        }
        if (!result.complete) {
          ctx.note(
            `warning: the scan stopped after ${opts.budget ?? DEFAULT_BUDGET_MS} ms with ${result.filesScanned} files looked at; files after that were not checked (raise --budget)`,
          );
        }
        process.exitCode = open.length ? 1 : 0;
      },
    );
}
