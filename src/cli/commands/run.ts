import { Command, Option } from 'commander';
import type { StartSandboxInput, StartSandboxResult } from '../../core/index.js';
import { autoStartDaemon, daemonPaths, runAcp, startSandbox } from '../../core/index.js';
import { Context } from '../context.js';
import { type RunOptions, sandboxOptions, toStartInput } from './sandbox-options.js';

export function runCommand(): Command {
  return sandboxOptions(
    new Command('run')
      .description('run an agent in a sandbox on the current folder')
      .argument('[agent]', 'agent name or alias (see `corral agents`); default: config default_agent')
      .argument('[args...]', 'arguments for the agent, after --'),
  )
    .option('--yolo', "turn on the agent's own autonomy mode (e.g. --dangerously-skip-permissions)")
    .addOption(new Option('--ikwid', 'alias of --yolo').hideHelp())
    .option('-p, --prompt <text>', 'run one headless prompt and exit (agents with a headless mode)')
    .option('--worktree [name]', 'work in a git worktree of the repository, on branch corral/<agent>/<name>')
    .option(
      '--resume',
      "continue the agent's most recent session in this workspace (its own flag, e.g. --continue)",
    )
    .option(
      '--acp',
      "speak the Agent Client Protocol on stdio (the agent's ACP server; same as `corral acp`)",
    )
    .action(
      async (
        agentName: string | undefined,
        args: string[],
        opts: RunOptions & { ikwid?: boolean; worktree?: string | boolean; acp?: boolean; resume?: boolean },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        if (opts.acp) {
          process.exitCode = await runAcp(
            ctx,
            {
              ...toStartInput({ ...opts, yolo: opts.yolo || opts.ikwid ? true : undefined }),
              agent: agentName,
              args,
            },
            ctx.io,
          );
          return;
        }
        process.exitCode = await start(ctx, {
          ...toStartInput({ ...opts, yolo: opts.yolo || opts.ikwid ? true : undefined }),
          agent: agentName,
          mode: 'agent',
          args,
          ...(opts.worktree !== undefined ? { worktree: opts.worktree } : {}),
          ...(opts.resume ? { resume: true } : {}),
        });
      },
    );
}

export function acpCommand(): Command {
  return sandboxOptions(
    new Command('acp')
      .description(
        "serve an editor (Zed, JetBrains, any ACP client) over stdio: the agent's ACP server in a sandbox, paths mapped to the workspace",
      )
      .argument('[agent]', 'agent name or alias (agents with an ACP server: see `corral agents`)')
      .argument('[args...]', 'arguments for the ACP server, after --'),
  )
    .option('--yolo', "turn on the agent's own autonomy mode")
    .action(async (agentName: string | undefined, args: string[], opts: RunOptions, cmd: Command) => {
      const ctx = Context.of(cmd);
      process.exitCode = await runAcp(ctx, { ...toStartInput(opts), agent: agentName, args }, ctx.io);
    });
}

export function shellCommand(): Command {
  return sandboxOptions(
    new Command('shell')
      .description("open a shell (or run a command) in an agent's sandbox instead of the agent")
      .argument('<agent>', 'agent name or alias')
      .argument('[command...]', 'command to run instead of a shell, after --'),
  )
    .option('--no-join', "start a new container even if the agent's sandbox is already running here")
    .action(async (agentName: string, command: string[], opts: RunOptions, cmd: Command) => {
      const ctx = Context.of(cmd);
      process.exitCode = await start(ctx, {
        ...toStartInput(opts),
        agent: agentName,
        mode: 'shell',
        args: command,
      });
    });
}

/** Start through the core and render what came back; the exit code for the process. */
export async function start(ctx: Context, input: StartSandboxInput): Promise<number> {
  if (!input.dryRun) autoStartDaemon(daemonPaths(ctx.env), ctx.env);
  return renderStart(ctx, await startSandbox(ctx, input, ctx.io), input.agent);
}

export function renderStart(ctx: Context, r: StartSandboxResult, agent?: string): number {
  if (r.kind === 'exited' && r.agentSession && agent) {
    ctx.note(
      `corral: resume this conversation with \`corral resume ${agent} ${r.agentSession.slice(0, 8)}\``,
    );
  }
  if (r.kind === 'exited' && r.worktree) {
    ctx.note(
      `corral: the work is on branch ${r.worktree.branch} — \`corral worktree diff ${r.worktree.name}\`, \`corral worktree merge ${r.worktree.name}\``,
    );
  }
  if (r.kind === 'dry-run') for (const line of r.lines) ctx.print(line);
  if (r.kind === 'detached') {
    ctx.note(
      `started ${r.name} (${r.id.slice(0, 12)}) — \`corral attach ${r.agent}\` to connect, \`corral stop ${r.agent}\` to stop, \`corral approvals\` to answer its requests`,
    );
  }
  return r.exitCode;
}
