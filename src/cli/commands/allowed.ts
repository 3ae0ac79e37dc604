/** `corral allowed [list|add|remove]`: host commands the agent may run through the bridge without asking. */
import { Command } from 'commander';
import { resolveWorkspace } from '../../sandbox/identity.js';
import { Context } from '../context.js';

// The bridge pulls in the MCP SDK: load it when a subcommand runs, not on every corral start.
const approvals = () => import('../../bridge/approvals.js');

const workdir = (cmd: Command) =>
  cmd.option('-w, --workdir <dir>', 'workspace (default: the current folder)');

export function allowedCommand(): Command {
  const allowed = new Command('allowed').description(
    'host commands agents in this workspace may run through the bridge without asking',
  );
  allowed.addCommand(
    workdir(new Command('list').description('the allowed commands and prefix patterns'))
      .option('--json', 'print JSON')
      .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
        const list = await (await approvals()).listAllowed(ws.path);
        if (opts.json) return ctx.json(list);
        if (!list.length) return ctx.note('nothing allowed in this workspace');
        ctx.print(list.join('\n'));
      }),
  );
  allowed.addCommand(
    workdir(
      new Command('add')
        .description('allow an exact command, or a prefix pattern ending in * (e.g. "npm test*")')
        .argument('<pattern>', 'the command or pattern'),
    ).action(async (pattern: string, opts: { workdir?: string }, cmd: Command) => {
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      const added = await (await approvals()).addAllowed(ws.path, pattern);
      Context.of(cmd).note(added ? `allowed: ${pattern}` : `already allowed: ${pattern}`);
    }),
  );
  allowed.addCommand(
    workdir(
      new Command('remove').description('stop allowing a command or pattern').argument('<pattern>'),
    ).action(async (pattern: string, opts: { workdir?: string }, cmd: Command) => {
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      const removed = await (await approvals()).removeAllowed(ws.path, pattern);
      Context.of(cmd).note(removed ? `removed: ${pattern}` : `was not allowed: ${pattern}`);
    }),
  );
  return allowed;
}
