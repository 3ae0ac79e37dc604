/** `corral agents`: the agents corral knows, their aliases, versions and what they need. */
import { Command } from 'commander';
import { AGENTS } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function agentsCommand(): Command {
  return new Command('agents')
    .description('list the agents corral can run')
    .option('--json', 'print JSON (full specs)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const config = await ctx.config().catch(() => undefined);
      const version = (name: string, pinned: string) => config?.agents[name]?.version ?? pinned;
      if (opts.json) {
        return ctx.json(AGENTS.map((a) => ({ ...a, configuredVersion: version(a.name, a.install.version) })));
      }
      ctx.print(
        await table(
          ['AGENT', 'ALIASES', 'NAME', 'VERSION', 'YOLO FLAG', 'ACP', 'API KEYS'],
          [
            ...AGENTS.map((a) => [
              a.name,
              a.aliases.join(', '),
              a.displayName,
              a.unavailable
                ? `${a.install.kind}: not installable here`
                : `${a.install.kind}:${version(a.name, a.install.version)}`,
              a.yoloArgs.join(' ') || '-',
              a.acp ? (a.acp.adapter ? 'adapter' : 'yes') : '-',
              a.authEnv.slice(0, 2).join(', ') + (a.authEnv.length > 2 ? ', …' : ''),
            ]),
            // Custom agents from config (`agents.<name>.command`).
            ...Object.entries(config?.agents ?? {})
              .filter(([, c]) => c.command)
              .map(([name, c]) => [
                name,
                '',
                'custom (config)',
                c.image ? `image:${c.image}` : 'containerfile',
                c.yolo_args?.join(' ') || '-',
                '-',
                (c.keys ?? []).map((k) => (typeof k === 'string' ? k : k.env)).join(', ') || '-',
              ]),
          ],
        ),
      );
      ctx.note('\nrun one with `corral run <agent>` or just `corral <alias>`');
    });
}
