/**
 * `corral auth`: the logins of each agent and profile. Brokered OAuth logins (Claude, Codex) live
 * in corral's host store and reach the sandbox only as placeholders; other agents' logins live in
 * the profile's state volume. authCommand() returns the group so more subcommands can join it.
 */
import { Command } from 'commander';
import { resolveAgent } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { DEFAULT_PROFILE, validateProfile } from '../../workspace/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';
import { loginCommand } from './auth-login.js';

interface ProfileOption {
  profile: string;
}

/** The gateway image runs the helper containers that touch a volume (small, and always buildable). */
/** The engine, and a small image for helper containers that read or change a state volume. */
export async function helperEngine(ctx: Context) {
  const engine = await ctx.engine();
  const { ensureGatewayImage } = await import('../../images/gateway.js');
  const { buildSettings } = await import('../../sandbox/image.js');
  const { consoleProgress } = await import('../../images/build.js');
  const image = await ensureGatewayImage(
    engine,
    buildSettings(await ctx.config()),
    consoleProgress(process.stderr),
  );
  return { engine, image };
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

function importCommand(): Command {
  return new Command('import')
    .description(
      'copy your existing login for an agent on this machine (e.g. ~/.claude/.credentials.json) into a profile',
    )
    .argument('<agent>', 'agent name or alias')
    .option('--profile <name>', 'profile to import into', DEFAULT_PROFILE)
    .option('--from <file>', "the login file to copy (default: the agent's own, in your home folder)")
    .action(async (name: string, opts: ProfileOption & { from?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const agent = resolveAgent(name);
      const profile = validateProfile(opts.profile);
      const { importLogin } = await import('../../auth/manage.js');
      const r = await importLogin(agent, profile, opts.from ? { from: opts.from } : {});
      if (agent.oauth) {
        ctx.note(
          `imported the ${agent.displayName} login from ${r.files[0]} into corral's login store (profile ${profile}, valid until ${when(r.expiresAt ?? 0)} UTC, refreshed by corral).`,
        );
        ctx.note(
          'note: your own CLI on this machine shares that login now; whichever refreshes it next leaves the other logged out. Log in again on the host if that happens.',
        );
      } else {
        ctx.note(
          `copied ${r.files.join(', ')} into corral's login store (profile ${profile}); each workspace's sandbox gets it at its next start.`,
        );
      }
    });
}

function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list profiles: workspace homes, stored login and its expiry, stored long-lived token')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const engine = await ctx.engine().catch(() => undefined);
      const { listProfiles } = await import('../../auth/manage.js');
      const rows = await listProfiles(engine);
      if (opts.json) return ctx.json(rows);
      if (!rows.length)
        return ctx.note(
          'no profiles yet: `corral run <agent>` makes one, `corral auth import <agent>` fills it',
        );
      const now = Date.now();
      ctx.print(
        await table(
          ['AGENT', 'PROFILE', 'HOMES', 'STORED LOGIN', 'TOKEN'],
          rows.map((r) => [
            r.agent,
            r.profile,
            r.homes === undefined ? '?' : String(r.homes),
            r.expiresAt
              ? `${Date.parse(r.expiresAt) < now ? 'expired' : 'valid until'} ${r.expiresAt.replace('T', ' ').slice(0, 16)}`
              : r.files
                ? 'files'
                : '-',
            r.token ? 'yes' : '-',
          ]),
        ),
      );
    });
}

function logoutCommand(): Command {
  return new Command('logout')
    .description(
      "forget a profile's login: corral's stored login and token, and the login files in its workspace homes",
    )
    .argument('<agent>', 'agent name or alias')
    .option('--profile <name>', 'profile to log out', DEFAULT_PROFILE)
    .action(async (name: string, opts: ProfileOption, cmd: Command) => {
      const ctx = Context.of(cmd);
      const agent: AgentSpec = resolveAgent(name);
      const profile = validateProfile(opts.profile);
      const { logout } = await import('../../auth/manage.js');
      const { detectKeyring } = await import('../../auth/keyring.js');
      const { removeStoredToken } = await import('../../auth/token.js');
      // The keyring entry first: logout then removes the folder that says it is there.
      await removeStoredToken(agent.name, profile, detectKeyring(ctx.env));
      const r = await logout(agent, profile, () => helperEngine(ctx).catch(() => undefined));
      const parts = [
        ...(r.store ? ["corral's stored login"] : []),
        ...(r.volumeFiles.length
          ? [
              `${r.volumeFiles.join(', ')} in ${r.volumes.length} home volume${r.volumes.length === 1 ? '' : 's'}`,
            ]
          : []),
      ];
      ctx.note(
        parts.length
          ? `logged out ${agent.name} (profile ${profile}): removed ${parts.join(' and ')}.`
          : `${agent.name} (profile ${profile}) had no login to remove.`,
      );
    });
}

export function authCommand(): Command {
  return new Command('auth')
    .description('logins per agent and profile: login, import, list, logout')
    .addCommand(loginCommand())
    .addCommand(importCommand())
    .addCommand(listCommand())
    .addCommand(logoutCommand());
}
