/** `corral trust`, `corral untrust`, `corral config show`: the project config and what it may do. */
import { Command } from 'commander';
import {
  PROJECT_FILE,
  showConfig,
  trustedWorkspaces,
  trustProject,
  untrustProject,
  valueAt,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function trustCommand(): Command {
  return new Command('trust')
    .description(
      `allow this workspace's ${PROJECT_FILE}, Containerfile and devcontainer.json to widen the sandbox (mounts, host env, custom images)`,
    )
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .option('--list', 'list trusted workspaces')
    .option('--json', 'with --list: print JSON')
    .action(async (dir: string | undefined, opts: { list?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (opts.list) {
        const entries = await trustedWorkspaces();
        if (opts.json) return ctx.json(entries);
        const rows = Object.entries(entries).map(([path, e]) => [path, e.trustedAt, e.hash.slice(0, 12)]);
        if (!rows.length) return ctx.note('no trusted workspaces');
        return ctx.print(await table(['WORKSPACE', 'TRUSTED AT', 'CONFIG HASH'], rows));
      }
      const { workspace, files } = await trustProject(ctx, { workdir: dir });
      ctx.note(
        `trusted ${files.join(', ')} in ${workspace} (as they are now; editing them needs \`corral trust\` again)`,
      );
    });
}

export function untrustCommand(): Command {
  return new Command('untrust')
    .description("stop honouring this workspace's project config beyond the safe subset")
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .action(async (dir: string | undefined, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await untrustProject(ctx, { workdir: dir });
      ctx.note(r.wasTrusted ? `untrusted ${r.workspace}` : `${r.workspace} was not trusted`);
    });
}

export function configCommand(): Command {
  const config = new Command('config').description('show the merged configuration');
  config
    .command('show')
    .description('print the config corral would use here (defaults < global < project < env < flags)')
    .option('--origin', 'show which file or layer each value came from')
    .option('--json', 'print JSON')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (opts: { origin?: boolean; json?: boolean; workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const loaded = await showConfig(ctx, { workdir: opts.workdir });
      const from = loaded.origin;
      if (opts.json)
        return ctx.json({
          config: loaded.config,
          ...(opts.origin ? { origin: from } : {}),
          project: loaded.project,
        });
      const { stringify } = (await import('yaml')).default;
      if (!opts.origin) ctx.print(stringify(loaded.config).trimEnd());
      else
        ctx.print(
          await table(
            ['KEY', 'VALUE', 'FROM'],
            Object.entries(from).map(([k, f]) => [k, JSON.stringify(valueAt(loaded.config, k)), f]),
          ),
        );
      if (loaded.project) {
        const p = loaded.project;
        ctx.note(
          `project config ${p.path}: ${p.trusted ? 'trusted' : `untrusted${p.skipped.length ? `; ignored: ${p.skipped.join('; ')}` : ''}`}`,
        );
      }
    });
  return config;
}
