/**
 * `corral allowed [list|add|remove]`: host commands the agent may run through the bridge without
 * asking. Without a subcommand, at a terminal, an interactive list to review and remove entries.
 */
import { Command } from 'commander';
import {
  addAllowedCommand,
  listAllowedCommands,
  removeAllowedCommand,
  workspacePath,
} from '../../core/index.js';
import { Context } from '../context.js';

// -w belongs to `allowed` and reaches its subcommands (commander gives a parent's options to it).
const workspaceOf = async (cmd: Command) =>
  workspacePath(Context.of(cmd), { workdir: cmd.optsWithGlobals<{ workdir?: string }>().workdir });

async function print(ctx: Context, ws: string, json: boolean): Promise<void> {
  const list = await listAllowedCommands(ctx, { workdir: ws });
  if (json) return ctx.json(list);
  if (!list.length) return ctx.note('nothing allowed in this workspace');
  ctx.print(list.join('\n'));
}

async function review(ctx: Context, ws: string): Promise<void> {
  const { runListView } = await import('../tui/list-view.js');
  await runListView({
    title: `host commands allowed without asking in ${ws}`,
    columns: ['KIND', 'PATTERN'],
    empty: 'nothing allowed here yet (the agent asks; answer "always", or `corral allowed add`)',
    load: async () =>
      (await listAllowedCommands(ctx, { workdir: ws })).map((p) => ({
        key: p,
        cells: [p.endsWith('*') ? 'prefix' : 'exact', p],
      })),
    actions: [
      {
        key: 'd',
        label: 'remove',
        confirm: true,
        run: async (p) =>
          (await removeAllowedCommand(ctx, { workdir: ws, pattern: p }))
            ? `removed: ${p}`
            : `was not allowed: ${p}`,
      },
    ],
    refreshMs: 2000,
  });
}

export function allowedCommand(): Command {
  const allowed = new Command('allowed')
    .description('host commands agents in this workspace may run through the bridge without asking')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ws = await workspaceOf(cmd);
      if (process.stdin.isTTY && process.stdout.isTTY) return review(Context.of(cmd), ws);
      return print(Context.of(cmd), ws, false);
    });
  allowed.addCommand(
    new Command('list')
      .description('the allowed commands and prefix patterns')
      .option('--json', 'print JSON')
      .action(async (opts: { json?: boolean }, cmd: Command) =>
        print(Context.of(cmd), await workspaceOf(cmd), Boolean(opts.json)),
      ),
  );
  allowed.addCommand(
    new Command('add')
      .description(
        'allow an exact command, or a prefix pattern ending in * (e.g. "npm test*"), bound to the files that define it',
      )
      .argument('<pattern>', 'the command or pattern')
      .action(async (pattern: string, _opts: unknown, cmd: Command) => {
        const ctx = Context.of(cmd);
        // Bound to the files that define it as they are now: shown, so the user knows what they allow.
        const { added, bound } = await addAllowedCommand(ctx, { workdir: await workspaceOf(cmd), pattern });
        const to = bound ? ` (bound to ${bound.files.join(', ') || 'no files yet'}: ${bound.hash})` : '';
        ctx.note(added ? `allowed: ${pattern}${to}` : `already allowed: ${pattern}${to}`);
      }),
  );
  allowed.addCommand(
    new Command('remove')
      .description('stop allowing a command or pattern')
      .argument('<pattern>')
      .action(async (pattern: string, _opts: unknown, cmd: Command) => {
        const ctx = Context.of(cmd);
        const removed = await removeAllowedCommand(ctx, { workdir: await workspaceOf(cmd), pattern });
        ctx.note(removed ? `removed: ${pattern}` : `was not allowed: ${pattern}`);
      }),
  );
  return allowed;
}
