/**
 * `corral auth`: the logins of each agent and profile. Brokered OAuth logins (Claude, Codex) live
 * in corral's host store and reach the sandbox only as placeholders; other agents' logins live in
 * the profile's state volume. authCommand() returns the group so more subcommands can join it.
 */
import { Command } from 'commander';
import { DEFAULT_PROFILE, importAgentLogin, listAuthProfiles, logoutProfile } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';
import { loginCommand } from './auth-login.js';

interface ProfileOption {
  profile: string;
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
      const r = await importAgentLogin(ctx, { agent: name, profile: opts.profile, from: opts.from });
      const profile = r.profile;
      if (r.brokered) {
        ctx.note(
          `imported the ${r.displayName} login from ${r.files[0]} into corral's login store (profile ${profile}, valid until ${when(r.expiresAt ?? 0)} UTC, refreshed by corral).`,
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
      const rows = await listAuthProfiles(ctx);
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
      const r = await logoutProfile(ctx, { agent: name, profile: opts.profile });
      const { agent, profile } = r;
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
          ? `logged out ${agent} (profile ${profile}): removed ${parts.join(' and ')}.`
          : `${agent} (profile ${profile}) had no login to remove.`,
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
