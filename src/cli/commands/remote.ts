/** `corral remote add|list|rm` and `corral pull`: engines on other machines, and the workspace's way back. */
import { Command } from 'commander';
import { addRemote, listRemotes, pullWorkspace, removeRemote } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function remoteCommand(): Command {
  const remote = new Command('remote').description(
    'engines on other machines over SSH: add, list, rm (then `corral --remote NAME run …`)',
  );
  remote
    .command('add')
    .description('name a Podman or Docker engine on another machine, reached with ssh (host keys checked)')
    .argument('<name>', 'a short name: lowercase letters, digits, - and _')
    .argument('<url>', 'ssh://user@host[:port]')
    .option('--engine <engine>', 'podman or docker (default: Podman if the machine has it, else Docker)')
    .option('--json', 'print JSON')
    .action(async (name: string, url: string, opts: { engine?: string; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      // commander hands `--engine` after the subcommand to the global option of the same name.
      const r = await addRemote({ name, url, engine: opts.engine ?? ctx.globals.engine });
      if (opts.json) return ctx.json({ outcome: 'added', ...r });
      ctx.note(
        `added ${r.name} → ${r.url}${r.engine ? ` (${r.engine})` : ''}; use it with --remote ${r.name}`,
      );
    });
  remote
    .command('list')
    .alias('ls')
    .description('list the remote engines')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listRemotes();
      if (opts.json) return ctx.json(all);
      if (!all.length) return ctx.note('no remotes (corral remote add NAME ssh://user@host)');
      ctx.print(
        await table(
          ['NAME', 'URL', 'ENGINE'],
          all.map((r) => [r.name, r.url, r.engine ?? 'detect']),
        ),
      );
    });
  remote
    .command('rm')
    .alias('remove')
    .description('forget a remote engine (its sandboxes and copies on that machine stay)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await removeRemote(name);
      if (opts.json) return ctx.json({ outcome: 'removed', ...r });
      ctx.note(`removed ${r.name}`);
    });
  return remote;
}

export function pullCommand(): Command {
  return new Command('pull')
    .description(
      "bring a remote engine's (or a Kubernetes upload workspace's) copy of the workspace back here (files changed on both sides since the upload are refused)",
    )
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .option('--json', 'print JSON')
    .action(async (dir: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await pullWorkspace(await ctx.engine(), dir ?? process.cwd());
      if (opts.json) return ctx.json({ outcome: 'pulled', ...r });
      ctx.note(
        `${r.changed.length} file(s) brought back, ${r.removed.length} removed${r.pending ? `; ${r.pending} changed here only (they go up at the next start)` : ''}`,
      );
    });
}
