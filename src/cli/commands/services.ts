/**
 * `corral services [list|logs|stop]`: the workspace's service containers (postgres, redis, …).
 * Without a subcommand, at a terminal, an interactive list (logs of the selected one, stop).
 */
import { Command } from 'commander';
import { followServiceLogs, listServices, serviceLogText, stopService } from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { Context } from '../context.js';
import { table } from '../table.js';

// -w and --json belong to `services` and reach its subcommands (commander hands a parent's options down).
function target(cmd: Command) {
  return { ctx: Context.of(cmd), workdir: cmd.optsWithGlobals<{ workdir?: string }>().workdir };
}

function lineCount(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new CorralError('BAD_INPUT', `--tail expects a number of lines, not "${v}".`);
  return Number(v);
}

async function printList(cmd: Command, json: boolean): Promise<void> {
  const { ctx, workdir } = target(cmd);
  const { services: list, reaped } = await listServices(ctx, { workdir });
  if (reaped.length && !json) ctx.note(`removed services left by an ended session: ${reaped.join(', ')}`);
  if (json) return ctx.json(list);
  if (!list.length) return ctx.note('no services in this workspace');
  ctx.print(
    await table(
      ['NAME', 'IMAGE', 'STATE', 'REACH AT', 'ENV KEYS', 'SESSION'],
      list.map((s) => [
        s.name,
        s.image,
        s.state,
        s.ports.map((p) => `${s.name}:${p}`).join(', '),
        s.envKeys.join(', '),
        s.session,
      ]),
    ),
  );
}

async function review(cmd: Command): Promise<void> {
  const { ctx, workdir } = target(cmd);
  await listServices(ctx, { workdir });
  const { runListView } = await import('../tui/list-view.js');
  await runListView({
    title: `services in ${workdir ?? ctx.cwd}`,
    columns: ['NAME', 'STATE', 'REACH AT', 'IMAGE'],
    empty: 'no services here (an agent starts them with start_service, or `services:` in config)',
    load: async () =>
      (await listServices(ctx, { workdir, reap: false })).services.map((s) => ({
        key: s.name,
        cells: [s.name, s.state, s.ports.map((p) => `${s.name}:${p}`).join(', '), s.image],
      })),
    detail: async (name) =>
      (await serviceLogText(ctx, { workdir, name, tail: 15 }).catch(() => {
        throw new Error(`${name} is gone`);
      })) || '(no output yet)',
    actions: [
      {
        key: 's',
        label: 'stop',
        confirm: true,
        run: async (name) => {
          await stopService(ctx, { workdir, name });
          return `stopped ${name}`;
        },
      },
    ],
    refreshMs: 2000,
  });
}

export function servicesCommand(): Command {
  const root = new Command('services')
    .description(
      "this workspace's service containers, which its sandboxes reach by name (started by an agent or by `services:` in config); interactive at a terminal",
    )
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .option('--json', 'print JSON (list)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      if (process.stdin.isTTY && process.stdout.isTTY && !opts.json) return review(cmd);
      return printList(cmd, Boolean(opts.json));
    });
  root.addCommand(
    new Command('list')
      .description('list the services')
      .action(async (_opts: unknown, cmd: Command) =>
        printList(cmd, Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json)),
      ),
  );
  root.addCommand(
    new Command('logs')
      .description("print a service's output")
      .argument('<name>', 'service name')
      .option('-f, --follow', 'keep printing new output')
      .option('-n, --tail <lines>', 'only the last N lines (default 100)', lineCount)
      .action(async (name: string, opts: { follow?: boolean; tail?: number }, cmd: Command) => {
        const { ctx, workdir } = target(cmd);
        const input = { workdir, name, ...opts };
        if (!opts.follow) {
          const text = await serviceLogText(ctx, input);
          if (text) ctx.print(text);
          return;
        }
        // Until the service ends or Ctrl-C.
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        await followServiceLogs(ctx, input, ctx.io, stop.signal);
      }),
  );
  root.addCommand(
    new Command('stop')
      .description('stop a service and delete its container and data')
      .argument('<name>', 'service name')
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        const { ctx, workdir } = target(cmd);
        await stopService(ctx, { workdir, name });
        ctx.note(`stopped ${name}`);
      }),
  );
  return root;
}
