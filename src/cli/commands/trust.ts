/** `corral trust`, `corral untrust`, `corral config show`: the project config and what it may do. */
import { relative } from 'node:path';
import { Command } from 'commander';
import { DEVCONTAINER_FILES } from '../../config/devcontainer.js';
import { origins } from '../../config/load.js';
import { CONTAINERFILES, hasProjectFiles, readProjectFiles, trustText } from '../../config/project.js';
import { PROJECT_FILE, readTrust, trustWorkspace, untrustWorkspace } from '../../config/trust.js';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../workspace/identity.js';
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
        const entries = await readTrust();
        if (opts.json) return ctx.json(entries);
        const rows = Object.entries(entries).map(([path, e]) => [path, e.trustedAt, e.hash.slice(0, 12)]);
        if (!rows.length) return ctx.note('no trusted workspaces');
        return ctx.print(await table(['WORKSPACE', 'TRUSTED AT', 'CONFIG HASH'], rows));
      }
      const ws = await resolveWorkspace(dir ?? process.cwd());
      const files = await readProjectFiles(ws.path);
      if (!hasProjectFiles(files)) {
        throw new CorralError(
          'BAD_INPUT',
          `There is nothing in ${ws.path} to trust.`,
          `corral trusts a project's ${[PROJECT_FILE, ...CONTAINERFILES, ...DEVCONTAINER_FILES].join(', ')}.`,
        );
      }
      // Validate before trusting: a broken file should be fixed, not recorded.
      await ctx.config(ws.path);
      await trustWorkspace(ws.path, trustText(ws.path, files));
      const names = [files.config, files.containerfile, files.devcontainer, files.devDockerfile]
        .filter((f) => f !== undefined)
        .map((f) => relative(ws.path, f.path));
      ctx.note(
        `trusted ${names.join(', ')} in ${ws.path} (as they are now; editing them needs \`corral trust\` again)`,
      );
    });
}

export function untrustCommand(): Command {
  return new Command('untrust')
    .description("stop honouring this workspace's project config beyond the safe subset")
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .action(async (dir: string | undefined, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = await resolveWorkspace(dir ?? process.cwd());
      ctx.note((await untrustWorkspace(ws.path)) ? `untrusted ${ws.path}` : `${ws.path} was not trusted`);
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
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      const loaded = await ctx.loadedConfig(ws.path);
      const from = origins(loaded.layers, loaded.config as unknown as Record<string, unknown>);
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

function valueAt(obj: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}
