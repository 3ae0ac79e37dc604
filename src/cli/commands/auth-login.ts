/**
 * `corral auth login <agent>`: the agent's own login, run in a sandbox on the profile (behind the
 * gateway, in an empty workspace so no project is exposed), with its OAuth callback ports forwarded
 * from the host's 127.0.0.1 while it runs. A brokered login is then moved into corral's store.
 */
import { Command } from 'commander';
import { autoStartDaemon, DEFAULT_PROFILE, daemonPaths, loginAgent } from '../../core/index.js';
import { Context } from '../context.js';

export function loginCommand(): Command {
  return new Command('login')
    .description(
      "run the agent's own login in a sandbox on a profile (callback ports forwarded from 127.0.0.1)",
    )
    .argument('<agent>', 'agent name or alias')
    .option('--profile <name>', 'profile to log in', DEFAULT_PROFILE)
    .action(async (name: string, opts: { profile: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      process.exitCode = await loginAgent(ctx, { agent: name, profile: opts.profile }, ctx.io, {
        // As `corral run` does: a daemon set to start on demand starts with the sandbox.
        beforeStart: () => autoStartDaemon(daemonPaths(ctx.env), ctx.env),
      });
    });
}
