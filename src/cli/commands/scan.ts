/**
 * `corral scan [dir]`: the pre-mount secret scan on its own, for CI and for triaging findings before
 * `corral run` asks. Exit 0 when nothing is left to decide, 1 when findings are untriaged.
 * It reads every file (no cache): it is the check to trust when in doubt.
 */
import { Command, InvalidArgumentError } from 'commander';
import { location, scanForCredentials } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

function parseBudget(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
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
        const r = await scanForCredentials(ctx, {
          workdir: dir,
          budgetMs: opts.budget,
          allow: opts.allow,
          mask: opts.mask,
        });
        const open = r.findings;
        const allowed = r.allowed;

        if (opts.json) {
          ctx.json({
            workspace: r.workspace,
            complete: r.complete,
            filesScanned: r.filesScanned,
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
              : `no untriaged findings in ${r.filesScanned} files${tail}`,
          );
        }
        if (!r.complete) {
          ctx.note(
            `warning: the scan stopped after ${r.budgetMs} ms with ${r.filesScanned} files looked at; files after that were not checked (raise --budget)`,
          );
        }
        process.exitCode = open.length ? 1 : 0;
      },
    );
}
