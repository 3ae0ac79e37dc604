/** `corral worktree list|diff|merge|rm` and `corral resume`: agents' branches and conversations. */
import { Command, Option } from 'commander';
import {
  agentSessions,
  mergeWorktree,
  removeWorktree,
  resumeAgent,
  worktreeDiff,
  worktrees,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';
import { renderStart } from './run.js';
import { type RunOptions, sandboxOptions, toStartInput } from './sandbox-options.js';

export function worktreeCommand(): Command {
  const wt = new Command('worktree').description(
    "agents' git worktrees (corral run/task --worktree): list, diff, merge, rm",
  );
  const workdir = () => new Option('-w, --workdir <dir>', 'the repository (default: the current folder)');
  wt.command('list')
    .alias('ls')
    .description("the repository's corral worktrees")
    .addOption(workdir())
    .option('--json', 'print JSON')
    .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const list = await worktrees(ctx, { workdir: opts.workdir });
      if (opts.json) return ctx.json(list);
      if (!list.length)
        return ctx.note('no corral worktrees — `corral run <agent> --worktree NAME` makes one');
      ctx.print(
        await table(
          ['NAME', 'BRANCH', 'CHANGES', 'PATH'],
          list.map((w) => [w.name, w.branch, w.diffStat.split('\n').at(-1)?.trim() || '-', w.path]),
        ),
      );
    });
  wt.command('diff')
    .description('what the agent changed in its worktree since it branched off')
    .argument('<name>')
    .addOption(workdir())
    .option('--stat', 'only the files and line counts')
    .action(async (name: string, opts: { workdir?: string; stat?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      ctx.io.stdout.write(await worktreeDiff(ctx, { name, workdir: opts.workdir, stat: opts.stat }));
    });
  wt.command('merge')
    .description("commit the worktree's work on its branch and merge it into the repository's current branch")
    .argument('<name>')
    .addOption(workdir())
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { workdir?: string; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await mergeWorktree(ctx, { name, workdir: opts.workdir });
      if (opts.json) return ctx.json(r);
      ctx.note(`merged ${r.merged} into ${r.into}`);
    });
  wt.command('rm')
    .description('remove the worktree and its branch (its unmerged work goes too)')
    .argument('<name>')
    .addOption(workdir())
    .action(async (name: string, opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const w = await removeWorktree(ctx, { name, workdir: opts.workdir });
      ctx.note(`removed worktree ${w.name} and branch ${w.branch}`);
    });
  return wt;
}

export function resumeCommand(): Command {
  return sandboxOptions(
    new Command('resume')
      .description("reopen an agent's conversation from an earlier run or task")
      .argument('<agent>', 'agent name or alias')
      .argument('[id]', 'session id prefix (default: the latest here, else the latest anywhere)'),
  )
    .option('-p, --prompt <text>', 'continue headless with this prompt')
    .option('--yolo', "turn on the agent's own autonomy mode")
    .option('--list', "list the agent's recorded sessions")
    .option('--json', 'with --list: print JSON')
    .action(
      async (
        agent: string,
        id: string | undefined,
        opts: RunOptions & { list?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        if (opts.list) {
          const all = await agentSessions(ctx, agent);
          if (opts.json) return ctx.json(all);
          if (!all.length) return ctx.note(`no ${agent} sessions recorded yet`);
          ctx.print(
            await table(
              ['SESSION', 'KIND', 'CREATED', 'WORKSPACE', 'TITLE'],
              all.map((s) => [
                s.sessionId,
                s.kind,
                s.created.replace('T', ' ').slice(0, 19),
                s.workspace,
                s.title.split('\n')[0]!.slice(0, 40),
              ]),
            ),
          );
          return;
        }
        const { workdir, detach: _d, dryRun: _r, name: _n, join: _j, prompt, ...start } = toStartInput(opts);
        const r = await resumeAgent(ctx, { ...start, agent, id, workdir, prompt }, ctx.io);
        process.exitCode = renderStart(ctx, r, agent);
      },
    );
}
