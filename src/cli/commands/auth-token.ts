/**
 * `corral auth setup-token` (a long-lived token from the agent's own flow, kept on the host) and
 * `corral auth doctor` (which credential would be used, and does it work).
 */
import type { Command } from 'commander';
import { authDoctor, autoStartDaemon, daemonPaths, loginExposure, setupToken } from '../../core/index.js';
import { Context } from '../context.js';

export { pickToken } from '../../core/index.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function addTokenCommands(auth: Command): void {
  auth
    .command('setup-token')
    .description("get a long-lived token with the agent's own flow and use it on later runs")
    .argument('<agent>', 'agent name or alias (claude)')
    .option('--profile <name>', 'profile to store it for', 'default')
    .option('--stdin', 'read a token you already have from stdin instead of running the flow')
    .option('--remove', 'forget the stored token')
    .addHelpText(
      'after',
      '\nThe token is kept in the OS keyring where one answers (secret-tool), else in a 0600 file in\n' +
        "corral's data folder. Behind the gateway the sandbox only ever sees a placeholder.\n" +
        'Precedence: a key you pass (-e, env files, config env) > the stored token > the login in the profile.',
    )
    .action(
      async (name: string, opts: { profile: string; stdin?: boolean; remove?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const r = await setupToken(
          ctx,
          { agent: name, profile: opts.profile, stdin: opts.stdin, remove: opts.remove },
          ctx.io,
          // As `corral run` does: a daemon set to start on demand starts with the sandbox.
          { beforeStart: () => autoStartDaemon(daemonPaths(ctx.env), ctx.env) },
        );
        if (r.kind === 'removed') {
          ctx.note(r.had ? `forgot the ${r.agent} token of profile ${r.profile}` : 'no token was stored');
          return;
        }
        ctx.note(
          `stored ${r.masked} for ${r.agent} profile ${r.profile} in ${r.where}; later runs use it as ${r.env}`,
        );
      },
    );
}

export function addDoctorCommand(auth: Command): void {
  auth
    .command('doctor')
    .description(
      'which credential an agent would use, and whether it works (exit 0 ok, 1 missing/refreshable, 2 broken); without an agent, every kept login and what it exposes inside the sandbox',
    )
    .argument('[agent]', 'agent name or alias (none: list every login and what it exposes)')
    .option('--profile <name>', 'profile', 'default')
    .option('-e, --env <KEY[=VAL]>', 'a key as `corral run -e` would pass it (repeatable)', collect, [])
    .option('--env-file <file>', 'env file as `corral run --env-file` (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(
      async (
        name: string | undefined,
        opts: { profile: string; env: string[]; envFile: string[]; json?: boolean },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        if (name === undefined) return exposures(ctx, opts.profile, Boolean(opts.json));
        const report = await authDoctor(ctx, {
          agent: name,
          profile: opts.profile,
          env: opts.env,
          envFile: opts.envFile,
        });
        if (opts.json) ctx.json(report);
        else {
          ctx.print(`${report.agent} (profile ${report.profile}): ${report.credential}`);
          ctx.print(`  ${report.status}: ${report.detail}`);
        }
        process.exitCode = report.exitCode;
      },
    );
}

/** Every login corral keeps for the profile: brokered (placeholders only) or copied in as it is. */
async function exposures(ctx: Context, profile: string, json: boolean): Promise<void> {
  const rows = await loginExposure(ctx, { profile });
  if (json) return ctx.json(rows);
  if (!rows.length) return ctx.note(`no logins kept for profile ${profile}`);
  for (const r of rows) {
    const left = r.expiresAt ? `, expires ${new Date(r.expiresAt).toISOString()}` : '';
    ctx.print(`${r.agent} (profile ${r.profile}): ${r.brokered ? 'brokered' : 'NOT brokered'}${left}`);
    ctx.print(
      `  files: ${r.files.map((f) => `~/${f}`).join(', ')}${r.refreshToken ? ' (with a refresh token)' : ''}`,
    );
    ctx.print(`  exposes: ${r.exposes}`);
    if (!r.brokered) ctx.print(`  broker: ${r.broker}`);
  }
}
