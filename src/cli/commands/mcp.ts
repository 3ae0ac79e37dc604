/** `corral mcp list`: the MCP servers handed to every agent (config `mcp_servers` and the host bridge). */
import { Command } from 'commander';
import { listMcpServers } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function mcpCommand(): Command {
  const mcp = new Command('mcp').description(
    'MCP servers every agent gets in its own config format: the host bridge and config `mcp_servers`',
  );
  mcp.addCommand(
    new Command('list')
      .description('the servers, and which agents get them')
      .option(
        '-w, --workdir <dir>',
        'workspace whose trusted .corral.yaml joins in (default: the current folder)',
      )
      .option('--json', 'print JSON')
      .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const listing = await listMcpServers(ctx, opts);
        if (opts.json) return ctx.json(listing);
        const rows = listing.servers.map((s) => {
          const secrets = Object.entries(s.secretHeaders ?? {}).map(
            ([h, v]) => `${h} (from $${v}, injected)`,
          );
          const what = s.transport === 'http' ? (s.url ?? '') : (s.command ?? []).join(' ');
          return [
            s.name,
            s.transport,
            what,
            [...(s.headers ?? []), ...secrets, ...(s.env ?? [])].join(', ') || '-',
          ];
        });
        ctx.print(await table(['NAME', 'TRANSPORT', 'URL / COMMAND', 'HEADERS / ENV'], rows));
        ctx.print(`\nagents that get them: ${listing.agents.join(', ')}`);
        ctx.print(`no MCP client corral configures: ${listing.without.join(', ')}`);
      }),
  );
  return mcp;
}
