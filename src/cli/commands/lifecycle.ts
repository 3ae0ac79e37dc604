/** list, stop, attach, exec, logs: operating on sandboxes that exist. */
import { Command } from 'commander';
import { findAgent } from '../../agents/index.js';
import { CorralError } from '../../errors.js';
import {
  attachTo,
  execIn,
  findSandbox,
  listSandboxes,
  type SandboxInfo,
  stopSandbox,
  streamLogs,
} from '../../sandbox/manage.js';
import { formatPorts } from '../../sandbox/ports.js';
import { resolveWorkspace, type Workspace } from '../../workspace/identity.js';
import { hostUser, planUser } from '../../workspace/userns.js';
import { Context } from '../context.js';
import { table } from '../table.js';

function age(created: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - created));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** Resolve `<agent|container>` against the current (or --workdir) workspace. */
async function target(ctx: Context, name: string, workdir?: string): Promise<SandboxInfo> {
  const engine = await ctx.engine();
  const agent = findAgent(name);
  const ws: Workspace | undefined = await resolveWorkspace(workdir ?? process.cwd()).catch(() => undefined);
  return findSandbox(engine, name, ws, agent?.name);
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list sandboxes (all workspaces)')
    .option('--running', 'only running sandboxes')
    .option('--json', 'print JSON')
    .action(async (opts: { running?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listSandboxes(await ctx.engine(), {
        ports: true,
        ...(opts.running ? { running: true } : {}),
      });
      // Detached runs' bridges remember the agent's last notification (notify_user, approvals, exit).
      const { readBridgeState } = await import('../../bridge/session-state.js');
      const notes = await Promise.all(
        all.map(async (s) => (s.session ? (await readBridgeState(s.session))?.lastNotification : undefined)),
      );
      if (opts.json) return ctx.json(all.map((s, i) => ({ ...s, lastNotification: notes[i] ?? null })));
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
        if (!opts.all && targets.length === 0) {
          throw new CorralError(
            'BAD_INPUT',
            'Nothing to stop.',
            'Name an agent or container, or pass --all.',
          );
        }
        const engine = await ctx.engine();
        const list = opts.all
          ? await listSandboxes(engine)
          : await Promise.all(targets.map((t) => target(ctx, t, opts.workdir)));
        const reclaim = planUser(engine, hostUser()).reclaimTo;
        for (const s of list) {
          await stopSandbox(engine, s, {
            ...(opts.force ? { force: true } : {}),
            ...(reclaim ? { reclaimTo: reclaim } : {}),
          });
          ctx.note(`stopped ${s.name}`);
        }
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
      const s = await target(ctx, name, opts.workdir);
      const code = await attachTo(await ctx.engine(), s, ctx.io);
      if (code === undefined) ctx.note(`\ndetached from ${s.name}; it is still running`);
      else process.exitCode = code;
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
        const s = await target(ctx, name, opts.workdir);
        process.exitCode = await execIn(await ctx.engine(), s, command, ctx.io, {
          tty: opts.tty ?? Boolean(process.stdin.isTTY),
        });
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
        const s = await target(ctx, name, opts.workdir);
        await streamLogs(await ctx.engine(), s, ctx.io, {
          ...(opts.follow ? { follow: true } : {}),
          ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
        });
      },
    );
}
