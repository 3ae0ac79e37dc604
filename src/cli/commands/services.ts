/**
 * `corral services [list|logs|stop]`: the workspace's service containers (postgres, redis, …).
 * Without a subcommand, at a terminal, an interactive list (logs of the selected one, stop).
 */
import { Command } from 'commander';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

const services = () => import('../../services/index.js');

// -w and --json belong to `services` and reach its subcommands (commander hands a parent's options down).
async function target(cmd: Command) {
  const ctx = Context.of(cmd);
  const ws = await resolveWorkspace(cmd.optsWithGlobals<{ workdir?: string }>().workdir ?? process.cwd());
  return { ctx, ws, engine: await ctx.engine(), svc: await services() };
}

function lineCount(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new CorralError('BAD_INPUT', `--tail expects a number of lines, not "${v}".`);
  return Number(v);
}

async function printList(cmd: Command, json: boolean): Promise<void> {
  const { ctx, ws, engine, svc } = await target(cmd);
  const reaped = await svc.reapOrphans(engine, ws);
  if (reaped.length && !json) ctx.note(`removed services left by an ended session: ${reaped.join(', ')}`);
  const list = await svc.listServices(engine, ws);
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
  const { ws, engine, svc } = await target(cmd);
  await svc.reapOrphans(engine, ws);
  const { runListView } = await import('../tui/list-view.js');
  const find = async (name: string) => {
    const s = await svc.findService(engine, ws, name);
    if (!s) throw new Error(`${name} is gone`);
    return s;
  };
  await runListView({
    title: `services in ${ws.path}`,
    columns: ['NAME', 'STATE', 'REACH AT', 'IMAGE'],
    empty: 'no services here (an agent starts them with start_service, or `services:` in config)',
    load: async () =>
      (await svc.listServices(engine, ws)).map((s) => ({
        key: s.name,
        cells: [s.name, s.state, s.ports.map((p) => `${s.name}:${p}`).join(', '), s.image],
      })),
    detail: async (name) =>
      (await svc.tailLogs(engine, (await find(name)).container, 15)) || '(no output yet)',
    actions: [
      {
        key: 's',
        label: 'stop',
        confirm: true,
        run: async (name) => {
          await svc.stopService(engine, ws, name);
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
        const { ctx, ws, engine, svc } = await target(cmd);
        const s = await svc.findService(engine, ws, name);
        if (!s)
          throw new CorralError(
            'BAD_INPUT',
            `No service named ${name} in this workspace.`,
            'See `corral services`.',
          );
        if (!opts.follow) {
          const text = await svc.tailLogs(engine, s.container, opts.tail ?? 100);
          if (text) ctx.print(text);
          return;
        }
        const { Transform } = await import('node:stream');
        const clean = () =>
          new Transform({
            transform: (c: Buffer, _e, done) => done(null, svc.sanitizeLog(c.toString('utf8'))),
          });
        const out = clean();
        const err = clean();
        out.pipe(ctx.io.stdout as NodeJS.WritableStream);
        err.pipe(ctx.io.stderr as NodeJS.WritableStream);
        const stream = await engine.logs(s.container, { follow: true, tail: opts.tail ?? 100 });
        engine.demux(stream, out, err);
        await new Promise<void>((resolve) => {
          stream.once('end', resolve);
          stream.once('close', resolve);
          process.once('SIGINT', () => {
            stream.destroy();
            resolve();
          });
        });
      }),
  );
  root.addCommand(
    new Command('stop')
      .description('stop a service and delete its container and data')
      .argument('<name>', 'service name')
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        const { ctx, ws, engine, svc } = await target(cmd);
        await svc.stopService(engine, ws, name);
        ctx.note(`stopped ${name}`);
      }),
  );
  return root;
}
