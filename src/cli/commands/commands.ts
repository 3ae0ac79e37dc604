/**
 * `corral commands`: the host commands agents ran through the bridge in this workspace — list them,
 * read their output, kill one that is still running. At a terminal without a subcommand it is an
 * interactive list. Output files live in the workspace (the agent can write there), so they are read
 * without following links and printed with control characters removed.
 */
import { Command } from 'commander';
import {
  type CommandRow,
  cleanOutput as clean,
  findHostCommand,
  hostCommandOutput,
  hostCommands,
  killHostCommand,
  workspacePath,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export type { CommandRow };

/** Every session's commands in a workspace (as the workspace path names them). */
const gatherCommands = (ctx: Context, workspace: string) => hostCommands(ctx, { workdir: workspace });
const pick = (ctx: Context, workspace: string, ref: string) =>
  findHostCommand(ctx, { workdir: workspace, ref });
const readOutput = (
  ctx: Context,
  workspace: string,
  row: CommandRow,
  stream: 'stdout' | 'stderr',
  from = 0,
) => hostCommandOutput(ctx, { workdir: workspace, row, stream, from });

async function killOne(ctx: Context, workspace: string, row: CommandRow): Promise<string> {
  return (await killHostCommand(ctx, { workdir: workspace, row }))
    ? `killed ${row.id}`
    : `${row.id} is not running`;
}

const describeState = (r: CommandRow) => (r.state === 'finished' ? `exit ${r.exitCode ?? '?'}` : r.state);

export function commandsCommand(): Command {
  // -w belongs to `commands` and reaches its subcommands (commander gives a parent's options to it).
  const wsOf = async (cmd: Command) =>
    workspacePath(Context.of(cmd), { workdir: cmd.optsWithGlobals<{ workdir?: string }>().workdir });
  const commands = new Command('commands')
    .description(
      'host commands agents ran through the bridge here: list, output, kill (interactive at a terminal)',
    )
    .option('-w, --workdir <dir>', 'workspace (default: current folder)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd);
      const workspace = await wsOf(cmd);
      if (!process.stdout.isTTY || !process.stdin.isTTY) return list(ctx, workspace, false);
      const { runListView } = await import('../tui/list-view.js');
      await runListView({
        title: `host commands in ${workspace}`,
        columns: ['ID', 'SESSION', 'STATE', 'COMMAND'],
        empty: 'no host commands yet',
        load: async () =>
          (await gatherCommands(ctx, workspace)).map((r) => ({
            key: `${r.session}/${r.id}`,
            cells: [r.id, r.session.slice(0, 8), describeState(r), r.command],
          })),
        detail: async (key) => {
          const row = await pick(ctx, workspace, key);
          const tail = async (s: 'stdout' | 'stderr') =>
            clean((await readOutput(ctx, workspace, row, s)).toString('utf8'))
              .split('\n')
              .slice(-12)
              .join('\n');
          return `$ ${row.command}\n${await tail('stdout')}\n--- stderr ---\n${await tail('stderr')}`;
        },
        actions: [
          {
            key: 'x',
            label: 'kill',
            confirm: true,
            run: async (key) => killOne(ctx, workspace, await pick(ctx, workspace, key)),
          },
        ],
      });
    });
  commands.addCommand(
    new Command('list')
      .description("this workspace's host commands, every session")
      .option('--json', 'print JSON')
      .action(async (opts: { json?: boolean }, cmd: Command) =>
        list(Context.of(cmd), await wsOf(cmd), Boolean(opts.json)),
      ),
  );
  commands.addCommand(
    new Command('logs')
      .description("a command's output (stdout, or --stderr)")
      .argument('<id>', 'command id, or SESSION/ID')
      .option('--stderr', 'print stderr instead of stdout')
      .option('-f, --follow', 'keep printing until the command ends')
      .action(async (ref: string, opts: { stderr?: boolean; follow?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const workspace = await wsOf(cmd);
        const stream = opts.stderr ? 'stderr' : 'stdout';
        let row = await pick(ctx, workspace, ref);
        let offset = 0;
        for (;;) {
          const chunk = await readOutput(ctx, workspace, row, stream, offset);
          offset += chunk.length;
          ctx.io.stdout.write(clean(chunk.toString('utf8')));
          if (chunk.length) continue;
          if (!opts.follow || row.state !== 'running') break;
          await new Promise((r) => setTimeout(r, 300));
          row = await pick(ctx, workspace, `${row.session}/${row.id}`);
        }
      }),
  );
  commands.addCommand(
    new Command('kill')
      .description('stop a running command: SIGTERM to its process group, SIGKILL after 5 s')
      .argument('<id>', 'command id, or SESSION/ID')
      .action(async (ref: string, _opts: unknown, cmd: Command) => {
        const ctx = Context.of(cmd);
        const workspace = await wsOf(cmd);
        const message = await killOne(ctx, workspace, await pick(ctx, workspace, ref));
        ctx.note(message);
        if (!message.startsWith('killed')) process.exitCode = 1;
      }),
  );
  return commands;
}

async function list(ctx: Context, workspace: string, json: boolean): Promise<void> {
  const rows = await gatherCommands(ctx, workspace);
  if (json) return ctx.json(rows);
  if (!rows.length) return ctx.note('no host commands in this workspace yet');
  ctx.print(
    await table(
      ['ID', 'SESSION', 'STATE', 'COMMAND'],
      rows.map((r) => [r.id, r.session.slice(0, 8), describeState(r), clean(r.command)]),
    ),
  );
}
