/**
 * `corral commands`: the host commands agents ran through the bridge in this workspace — list them,
 * read their output, kill one that is still running. At a terminal without a subcommand it is an
 * interactive list. Output files live in the workspace (the agent can write there), so they are read
 * without following links and printed with control characters removed.
 */
import { Command } from 'commander';
import type { CommandInfo } from '../../bridge/commands.js';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

type State = CommandInfo['state'] | 'lost';
export interface CommandRow extends Omit<CommandInfo, 'state'> {
  state: State;
  pid?: number;
}

/** Every session's commands in a workspace: the folders on disk, with liveness from the registry. */
export async function gatherCommands(workspace: string): Promise<CommandRow[]> {
  const { listOnDisk } = await import('../../bridge/history.js');
  const { listRunning } = await import('../../bridge/registry.js');
  const running = new Map((await listRunning(workspace)).map((r) => [`${r.session}/${r.id}`, r]));
  return (await listOnDisk(workspace, '')).map((c) => {
    const live = running.get(`${c.session}/${c.id}`);
    // No exit file and no live process: the bridge that ran it went away without recording an end.
    const state: State = c.state === 'running' && !live ? 'lost' : c.state;
    return { ...c, state, ...(live ? { pid: live.pid, startedAt: live.startedAt } : {}) };
  });
}

function pick(rows: CommandRow[], ref: string): CommandRow {
  const found = rows.filter((r) => r.id === ref || `${r.session}/${r.id}` === ref);
  if (found.length === 1) return found[0]!;
  throw new CorralError(
    'BAD_INPUT',
    found.length ? `Command id ${ref} is in several sessions.` : `No command ${ref} in this workspace.`,
    found.length ? 'Name it as SESSION/ID (see `corral commands list`).' : 'See `corral commands list`.',
  );
}

const clean = (text: string) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');

async function readOutput(workspace: string, row: CommandRow, stream: 'stdout' | 'stderr', from = 0) {
  const { openSafeDir, readBytesNoFollow } = await import('../../bridge/safe-fs.js');
  const dir = await openSafeDir(workspace, row.dir.split('/'), 'open');
  try {
    return (await readBytesNoFollow(dir, stream, 1 << 20, from)) ?? Buffer.alloc(0);
  } finally {
    await dir.close();
  }
}

async function killOne(workspace: string, row: CommandRow): Promise<string> {
  const { killRunning, listRunning } = await import('../../bridge/registry.js');
  const record = (await listRunning(workspace)).find((r) => r.session === row.session && r.id === row.id);
  if (!record || !(await killRunning(record))) return `${row.id} is not running`;
  return `killed ${row.id}`;
}

const describeState = (r: CommandRow) => (r.state === 'finished' ? `exit ${r.exitCode ?? '?'}` : r.state);

export function commandsCommand(): Command {
  // -w belongs to `commands` and reaches its subcommands (commander gives a parent's options to it).
  const wsOf = async (cmd: Command) =>
    (await resolveWorkspace(cmd.optsWithGlobals<{ workdir?: string }>().workdir ?? process.cwd())).path;
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
          (await gatherCommands(workspace)).map((r) => ({
            key: `${r.session}/${r.id}`,
            cells: [r.id, r.session.slice(0, 8), describeState(r), r.command],
          })),
        detail: async (key) => {
          const row = pick(await gatherCommands(workspace), key);
          const tail = async (s: 'stdout' | 'stderr') =>
            clean((await readOutput(workspace, row, s)).toString('utf8'))
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
            run: async (key) => killOne(workspace, pick(await gatherCommands(workspace), key)),
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
        let row = pick(await gatherCommands(workspace), ref);
        let offset = 0;
        for (;;) {
          const chunk = await readOutput(workspace, row, stream, offset);
          offset += chunk.length;
          ctx.io.stdout.write(clean(chunk.toString('utf8')));
          if (chunk.length) continue;
          if (!opts.follow || row.state !== 'running') break;
          await new Promise((r) => setTimeout(r, 300));
          row = pick(await gatherCommands(workspace), `${row.session}/${row.id}`);
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
        const message = await killOne(workspace, pick(await gatherCommands(workspace), ref));
        ctx.note(message);
        if (!message.startsWith('killed')) process.exitCode = 1;
      }),
  );
  return commands;
}

async function list(ctx: Context, workspace: string, json: boolean): Promise<void> {
  const rows = await gatherCommands(workspace);
  if (json) return ctx.json(rows);
  if (!rows.length) return ctx.note('no host commands in this workspace yet');
  ctx.print(
    await table(
      ['ID', 'SESSION', 'STATE', 'COMMAND'],
      rows.map((r) => [r.id, r.session.slice(0, 8), describeState(r), clean(r.command)]),
    ),
  );
}
