/** `corral services [list|logs|stop]`: the workspace's service containers (postgres, redis, …). */
import { Command } from 'commander';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../sandbox/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

const services = () => import('../../services/index.js');

const workdir = (cmd: Command) =>
  cmd.option('-w, --workdir <dir>', 'workspace (default: the current folder)');

async function target(cmd: Command, dir: string | undefined) {
  const ctx = Context.of(cmd);
  const ws = await resolveWorkspace(dir ?? process.cwd());
  return { ctx, ws, engine: await ctx.engine(), svc: await services() };
}

function lineCount(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new CorralError('BAD_INPUT', `--tail expects a number of lines, not "${v}".`);
  return Number(v);
}

export function servicesCommand(): Command {
  const root = new Command('services').description(
    "this workspace's service containers, which its sandboxes reach by name (started by an agent or by `services:` in config)",
  );
  root.addCommand(
    workdir(new Command('list').description('list the services (the default)'))
      .option('--json', 'print JSON')
      .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
        const { ctx, ws, engine, svc } = await target(cmd, opts.workdir);
        const reaped = await svc.reapOrphans(engine, ws);
        if (reaped.length && !opts.json)
          ctx.note(`removed services left by an ended session: ${reaped.join(', ')}`);
        const list = await svc.listServices(engine, ws);
        if (opts.json) return ctx.json(list);
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
      }),
    { isDefault: true },
  );
  root.addCommand(
    workdir(new Command('logs').description("print a service's output").argument('<name>', 'service name'))
      .option('-f, --follow', 'keep printing new output')
      .option('-n, --tail <lines>', 'only the last N lines (default 100)', lineCount)
      .action(
        async (name: string, opts: { workdir?: string; follow?: boolean; tail?: number }, cmd: Command) => {
          const { ctx, ws, engine, svc } = await target(cmd, opts.workdir);
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
        },
      ),
  );
  root.addCommand(
    workdir(
      new Command('stop')
        .description('stop a service and delete its container and data')
        .argument('<name>', 'service name'),
    ).action(async (name: string, opts: { workdir?: string }, cmd: Command) => {
      const { ctx, ws, engine, svc } = await target(cmd, opts.workdir);
      await svc.stopService(engine, ws, name);
      ctx.note(`stopped ${name}`);
    }),
  );
  return root;
}
