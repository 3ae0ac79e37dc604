/** `corral doctor [agent…]`: is this machine ready? Exit 0 all ok, 1 warnings, 2 failures. */
import { Command } from 'commander';
import { AGENTS, exitCodeFor, findRemote, resolveAgent, runChecks, type Status } from '../../core/index.js';
import { Context } from '../context.js';

const MARK: Record<Status, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: '  - ' };

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'check the engine, runtime, config, images, CA and logins; exit 0 ok, 1 warnings, 2 failures',
    )
    .argument('[agents...]', 'agents to check (default: all)')
    .option('--json', 'print JSON')
    .action(async (names: string[], opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const remote = ctx.globals.remote ? await findRemote(ctx.globals.remote) : undefined;
      const requested = remote?.url ?? ctx.globals.engine;
      const results = await runChecks({
        config: await ctx.config(),
        ...(requested ? { requestedEngine: requested } : {}),
        ...(remote?.engine ? { remoteKind: remote.engine } : {}),
        agents: names.length ? names.map(resolveAgent) : [...AGENTS],
      });
      if (opts.json) ctx.json(results);
      else {
        for (const r of results) {
          ctx.print(`${MARK[r.status]}  ${r.name}: ${r.detail}`);
          if (r.fix) ctx.print(`      fix: ${r.fix}`);
        }
      }
      process.exitCode = exitCodeFor(results);
    });
}
