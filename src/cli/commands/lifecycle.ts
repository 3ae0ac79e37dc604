/** list, stop, attach, exec, logs: operating on sandboxes that exist. */
import { Command } from 'commander';
import {
  attachSandbox,
  execInSandbox,
  formatPorts,
  listSandboxes,
  sandboxLogs,
  stopSandboxes,
} from '../../core/index.js';
import { CorralError } from '../../errors.js';

import { Context } from '../context.js';
import { table } from '../table.js';

function age(created: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - created));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list sandboxes (all workspaces)')
    .option('--running', 'only running sandboxes')
    .option('--json', 'print JSON')
    .action(async (opts: { running?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listSandboxes(ctx, { running: opts.running });
      // Detached runs' bridges remember the agent's last notification (notify_user, approvals, exit).
      const notes = all.map((s) => s.lastNotification);
      if (opts.json) return ctx.json(all);
      if (!all.length) return ctx.note(opts.running ? 'no running sandboxes' : 'no sandboxes');
      const noted = notes.some(Boolean);
      ctx.print(
        await table(
          [
            'NAME',
            'AGENT',
            'STATE',
            'CREATED',
            'PORTS',
            'WORKSPACE',
            ...(noted ? ['LAST NOTIFICATION'] : []),
          ],
          all.map((s, i) => {
            const n = notes[i];
            return [
              s.name,
              s.agent,
              s.detached && s.running ? `${s.state} (detached)` : s.state,
              age(s.created),
              formatPorts(s.ports),
              s.workspacePath,
              ...(noted ? [n ? `${age(n.at / 1000)}: ${n.title}: ${n.body}`.slice(0, 80) : ''] : []),
            ];
          }),
        ),
      );
      for (const s of all.filter((x) => x.bridge === 'down'))
        ctx.note(
          `corral: ${s.name}: its host bridge is down (the daemon that served it is not running); \`corral daemon start\` serves it again`,
        );
    });
}

export function stopCommand(): Command {
  return new Command('stop')
    .description('stop sandboxes: an agent in this workspace, a container name, or --all')
    .argument('[targets...]', 'agent names/aliases or container names')
    .option('-a, --all', 'stop every corral sandbox')
    .option('-f, --force', 'kill instead of a graceful stop')
    .option('-w, --workdir <dir>', 'workspace for agent names (default: current folder)')
    .action(
      async (targets: string[], opts: { all?: boolean; force?: boolean; workdir?: string }, cmd: Command) => {
        const ctx = Context.of(cmd);
        await stopSandboxes(ctx, { targets, ...opts }, (s) => ctx.note(`stopped ${s.name}`));
      },
    );
}

export function attachCommand(): Command {
  return new Command('attach')
    .description('connect this terminal to a running sandbox (detach: Ctrl-P Ctrl-Q)')
    .argument('<target>', 'agent name/alias (this workspace) or container name')
    .option('-w, --workdir <dir>', 'workspace for agent names')
    .action(async (name: string, opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const { name: attached, exitCode } = await attachSandbox(
        ctx,
        { target: name, workdir: opts.workdir },
        ctx.io,
      );
      if (exitCode === undefined) ctx.note(`\ndetached from ${attached}; it is still running`);
      else process.exitCode = exitCode;
    });
}

export function execCommand(): Command {
  return new Command('exec')
    .description('run a command in a running sandbox')
    .argument('<target>', 'agent name/alias (this workspace) or container name')
    .argument('<command...>', 'command and args, after --')
    .option('-w, --workdir <dir>', 'workspace for agent names')
    .option('-t, --tty', 'allocate a terminal (default: when stdin is one)')
    .action(
      async (name: string, command: string[], opts: { workdir?: string; tty?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        process.exitCode = await execInSandbox(
          ctx,
          { target: name, workdir: opts.workdir, command, tty: opts.tty },
          ctx.io,
        );
      },
    );
}

export function logsCommand(): Command {
  return new Command('logs')
    .description("print a sandbox's output")
    .argument('<target>', 'agent name/alias (this workspace) or container name')
    .option('-f, --follow', 'keep printing new output')
    .option('-n, --tail <lines>', 'only the last N lines', (v) => {
      if (!/^\d+$/.test(v))
        throw new CorralError('BAD_INPUT', `--tail expects a number of lines, not "${v}".`);
      return Number(v);
    })
    .option('-w, --workdir <dir>', 'workspace for agent names')
    .action(
      async (name: string, opts: { follow?: boolean; tail?: number; workdir?: string }, cmd: Command) => {
        const ctx = Context.of(cmd);
        await sandboxLogs(ctx, { target: name, ...opts }, ctx.io);
      },
    );
}
