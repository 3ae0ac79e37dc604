/**
 * `corral scan [dir]`: the pre-mount secret scan on its own, for CI and for triaging findings before
 * `corral run` asks. Exit 0 when nothing is left to decide, 1 when findings are untriaged.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_BUDGET_MS, type Finding, scanWorkspace } from '../../credentials/scan.js';
import { allowFinding, untriaged } from '../../credentials/triage.js';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../sandbox/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

/** Progress appears only when a scan is slow enough that silence would look like a hang. */
const PROGRESS_AFTER_MS = 1000;

function parseBudget(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
}

/** `--allow` takes paths as the user typed them; findings use workspace-relative POSIX paths. */
function toFindingPath(workspace: string, given: string): string {
  const rel = isAbsolute(given) ? relative(workspace, given) : given;
  return rel.split(sep).join('/').replace(/^\.\//, '');
}

const location = (f: Finding) => (f.line ? `${f.path}:${f.line}` : f.path);

function progress(ctx: Context) {
  const started = Date.now();
  const tty = (ctx.io.stderr as { isTTY?: boolean }).isTTY === true;
  let last = 0;
  let shown = false;
  return {
    onProgress(files: number, path: string) {
      const now = Date.now();
      if (now - started < PROGRESS_AFTER_MS || now - last < (tty ? 100 : 1000)) return;
      last = now;
      shown = true;
      const line = `scanning… ${files} files (${path.length > 60 ? `…${path.slice(-59)}` : path})`;
      ctx.io.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
    done() {
      if (shown && tty) ctx.io.stderr.write('\r\x1b[K');
    },
  };
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
    .action(
      async (
        dir: string | undefined,
        opts: { json?: boolean; budget?: number; allow?: string[] },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        const ws = await resolveWorkspace(dir ?? process.cwd());
        const shown = progress(ctx);
        const result = await scanWorkspace(ws.path, {
          ...(opts.budget !== undefined ? { budgetMs: opts.budget } : {}),
          onProgress: shown.onProgress,
        }).finally(shown.done);

        for (const given of opts.allow ?? []) {
          const path = toFindingPath(ws.path, given);
          const match = result.findings.find((f) => f.path === path);
          if (!match) {
            throw new CorralError(
              'BAD_INPUT',
              `There is no finding in ${path} to allow.`,
              'Run `corral scan` to list the files with findings, and pass one of those paths.',
            );
          }
          await allowFinding(ws.path, match);
        }
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
          const tail = allowed ? ` (${allowed} allowed earlier, not shown)` : '';
          ctx.note(
            open.length
              ? `${open.length} finding${open.length === 1 ? '' : 's'} in ${new Set(open.map((f) => f.path)).size} file(s)${tail}; after checking a file, allow it with \`corral scan --allow <path>\``
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
