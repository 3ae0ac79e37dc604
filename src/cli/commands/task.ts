/** `corral task create|list|status|logs|cancel|rm`: headless agents working in the background. */
import { Command } from 'commander';
import {
  type CreateTaskInput,
  cancelTask,
  createTask,
  listTasks,
  removeTasks,
  runTask,
  type TaskView,
  taskLogs,
  taskStatus,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';
import { type RunOptions, sandboxOptions, toStartInput } from './sandbox-options.js';

type CreateOptions = RunOptions & { repo?: string; worktree?: string | boolean; json?: boolean };

function createCommand(): Command {
  return sandboxOptions(
    new Command('create')
      .description('start an agent headless in the background on a folder, a git URL or a GitHub issue/PR')
      .argument('<agent>', 'agent name or alias')
      .argument('[url]', 'a GitHub issue or pull request URL: clone its repository, "Fix"/"Review" it'),
  )
    .option('-p, --prompt <text>', 'what the agent should do (default for an issue/PR URL: Fix/Review it)')
    .option('--repo <url[#branch]>', 'clone this git repository on the host into a fresh workspace')
    .option('--worktree [name]', 'work in a git worktree on branch corral/<agent>/<name>')
    .option('--no-yolo', "keep the agent's own permission prompts (a headless agent then cannot use tools)")
    .option('--json', 'print {"id": …}')
    .action(async (agent: string, url: string | undefined, opts: CreateOptions, cmd: Command) => {
      const ctx = Context.of(cmd);
      const {
        prompt: _p,
        workdir,
        detach: _d,
        dryRun: _r,
        name: _n,
        join: _j,
        ...start
      } = toStartInput(opts);
      const input: CreateTaskInput = {
        ...start,
        agent,
        prompt: opts.prompt,
        workdir,
        repo: opts.repo,
        url,
        worktree: opts.worktree,
      };
      const { id } = await createTask(ctx, input);
      if (opts.json) return ctx.json({ id });
      ctx.print(id);
      ctx.note(`task ${id} started — \`corral task logs -f ${id}\` to follow, \`corral task status ${id}\``);
    });
}

const short = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');

function describe(t: TaskView): string[] {
  return [
    `id:        ${t.id}`,
    `agent:     ${t.agent}`,
    `state:     ${t.state}${t.exitCode !== null ? ` (exit ${t.exitCode})` : ''}`,
    `workspace: ${t.workspace}`,
    ...(t.source !== t.workspace ? [`source:    ${t.source}`] : []),
    ...(t.branch ? [`worktree:  ${t.worktree} (branch ${t.branch})`] : []),
    `created:   ${short(t.created)}`,
    `started:   ${short(t.started)}`,
    `ended:     ${short(t.ended)}`,
    ...(t.sessionId
      ? [`session:   ${t.sessionId} — \`corral resume ${t.agent} ${t.sessionId.slice(0, 8)}\``]
      : []),
    ...(t.error ? [`error:     ${t.error}`] : []),
    `prompt:    ${t.prompt.split('\n')[0]}`,
    ...(t.diffStat ? ['changes:', ...t.diffStat.split('\n').map((l) => `  ${l}`)] : []),
  ];
}

export function taskCommand(): Command {
  const task = new Command('task').description(
    'headless agents in the background: create, list, status, logs, cancel, rm',
  );
  task.addCommand(createCommand());
  task
    .command('list')
    .alias('ls')
    .description('list tasks, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listTasks(ctx);
      if (opts.json) return ctx.json(all);
      if (!all.length) return ctx.note('no tasks — `corral task create <agent> -p "…"` starts one');
      ctx.print(
        await table(
          ['ID', 'AGENT', 'STATE', 'EXIT', 'CREATED', 'CHANGES', 'PROMPT'],
          all.map((t) => [
            t.id,
            t.agent,
            t.state,
            t.exitCode === null ? '-' : String(t.exitCode),
            short(t.created),
            t.diffStat?.split('\n').at(-1)?.trim() ?? '-',
            t.prompt.split('\n')[0]!.slice(0, 50),
          ]),
        ),
      );
    });
  task
    .command('status')
    .description("a task's record: state, exit code, times, changed files, the agent's session")
    .argument('<id>', 'task id (a unique prefix is enough)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const t = await taskStatus(ctx, { id });
      if (opts.json) return ctx.json(t);
      for (const l of describe(t)) ctx.print(l);
    });
  task
    .command('logs')
    .description("a task's output")
    .argument('<id>', 'task id (a unique prefix is enough)')
    .option('-f, --follow', 'keep following until the task ends')
    .option('--json', 'print {"id","state","exitCode","log"} when done')
    .action(async (id: string, opts: { follow?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      let text = '';
      const t = await taskLogs(ctx, { id, follow: opts.follow }, (chunk) => {
        if (opts.json) text += chunk;
        else ctx.io.stdout.write(chunk);
      });
      if (opts.json) ctx.json({ id: t.id, state: t.state, exitCode: t.exitCode, log: text });
    });
  task
    .command('cancel')
    .description('stop a running task')
    .argument('<id>', 'task id (a unique prefix is enough)')
    .option('--json', 'print the task')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const t = await cancelTask(ctx, { id });
      if (opts.json) return ctx.json(t);
      ctx.note(`task ${t.id}: ${t.state}`);
    });
  task
    .command('rm')
    .description('forget finished tasks (their logs, and clones corral made for them)')
    .argument('[ids...]', 'task ids')
    .option('--all', 'every finished task')
    .option('--json', 'print the removed ids')
    .action(async (ids: string[], opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const removed = await removeTasks(ctx, { ids, all: opts.all });
      if (opts.json) return ctx.json({ removed });
      ctx.note(`removed ${removed.length} task(s)`);
    });
  // The background runner createTask starts; not for people.
  task
    .command('_run', { hidden: true })
    .argument('<id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      process.exitCode = await runTask(Context.of(cmd), id);
    });
  return task;
}
