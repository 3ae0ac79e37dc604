/** `corral ssh-config [--install]`: SSH access to running sandboxes for editors (VS Code, Zed). */
import { Command } from 'commander';
import { writeSshConfig } from '../../core/index.js';
import { Context } from '../context.js';

export function sshConfigCommand(): Command {
  return new Command('ssh-config')
    .description(
      'write SSH Host entries for the running sandboxes (for VS Code Remote-SSH, Zed, ssh, scp, sftp)',
    )
    .option(
      '--install',
      'also add one `Include` line at the top of ~/.ssh/config (once; nothing else changes)',
    )
    .option('--json', 'print the entries as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Starts the daemon and its SSH server (127.0.0.1 only) if needed. Each running sandbox gets a',
        '`Host corral-<workspace>-<agent>` entry; sessions run in that sandbox as its agent user.',
        'Logins need your own key (~/.ssh/*.pub, authorized_keys) or corral’s client key.',
        'From then on the daemon rewrites the entries as sandboxes start and stop.',
        '',
        'Example: corral ssh-config --install && ssh corral-1a2b3c4d5e6f-claude',
      ].join('\n'),
    )
    .action(async (opts: { install?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await writeSshConfig(ctx, { ...(opts.install ? { install: true } : {}) });
      if (opts.json) return ctx.json(r);
      if (r.include) {
        ctx.note(
          r.include.added
            ? `added \`Include ${r.configFile}\` at the top of ${r.include.path}`
            : `${r.include.path} already includes ${r.configFile}`,
        );
      }
      ctx.note(`wrote ${r.configFile} (SSH server on 127.0.0.1:${r.port})`);
      if (r.hosts.length === 0)
        ctx.note(
          'no sandbox is running yet: start one (corral run <agent> -d) and the daemon adds its entry',
        );
      for (const h of r.hosts) ctx.print(`${h.host}\t${h.agent}\t${h.workspacePath}`);
      if (!r.include)
        ctx.note(`use them with: ssh -F ${r.configFile} HOST, or run \`corral ssh-config --install\``);
    });
}
