/** `corral trust`, `corral untrust`, `corral config show`: the project config and what it may do. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { origins } from '../../config/load.js';
import { PROJECT_FILE, readTrust, trustWorkspace, untrustWorkspace } from '../../config/trust.js';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../sandbox/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function trustCommand(): Command {
  return new Command('trust')
    .description(
      `allow this workspace's ${PROJECT_FILE} to widen the sandbox (mounts, host env, custom images)`,
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
      const file = join(ws.path, PROJECT_FILE);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new CorralError('BAD_INPUT', `There is no ${PROJECT_FILE} in ${ws.path} to trust.`);
      });
      // Validate before trusting: a broken file should be fixed, not recorded.
      await ctx.config(ws.path);
      await trustWorkspace(ws.path, text);
      ctx.note(`trusted ${file} (as it is now; editing it needs \`corral trust\` again)`);
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
      const { stringify } = await import('yaml');
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
