/**
 * `corral approvals [list] [--json]`, `corral approvals allow|always|deny <id>|--all`: answer what
 * agents wait for, from any terminal (detached runs have no other place to ask).
 */
import { Command } from 'commander';
import {
  type ApprovalAnswerWord as ApprovalAnswer,
  answerApproval,
  answerApprovals,
  answerWord,
  listApprovals,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

const left = (expires: number) => `${Math.max(0, Math.round((expires - Date.now()) / 1000))}s`;

type ListOpts = { workdir?: string; json?: boolean };

const pendingIn = (ctx: Context, opts: ListOpts) => listApprovals(ctx, { workdir: opts.workdir });

async function printList(ctx: Context, opts: ListOpts): Promise<void> {
  const pending = await pendingIn(ctx, opts);
  if (opts.json) return ctx.json(pending.map(({ summary: _summary, ...p }) => p));
  if (!pending.length) return ctx.note('no approvals waiting');
  ctx.print(
    await table(
      ['ID', 'KIND', 'WHAT', 'TIME LEFT', 'WORKSPACE'],
      pending.map((p) => [p.id, p.kind, p.summary, left(p.expires), p.workspace]),
    ),
  );
}

/** At a terminal: waiting requests appear as they come; one key answers the selected one. */
async function review(ctx: Context, opts: ListOpts): Promise<void> {
  const { runListView } = await import('../tui/list-view.js');
  const answer = (a: ApprovalAnswer) => async (id: string) =>
    (await answerApproval(ctx, id, a)) ? `${id}: ${await answerWord(a)}` : `${id} is no longer waiting`;
  await runListView({
    title: 'approvals agents are waiting for',
    columns: ['ID', 'KIND', 'TIME LEFT', 'WHAT'],
    empty: 'no approvals waiting (this list updates itself)',
    load: async () =>
      (await pendingIn(ctx, opts)).map((p) => ({
        key: p.id,
        cells: [p.id, p.kind, left(p.expires), p.summary],
      })),
    detail: async (id) => {
      const p = (await pendingIn(ctx, opts)).find((x) => x.id === id);
      return p ? `${p.summary}\nworkspace: ${p.workspace}` : 'answered or gone';
    },
    actions: [
      { key: 'y', label: 'allow once', run: answer('once') },
      { key: 'a', label: 'allow always', confirm: true, run: answer('always') },
      { key: 'n', label: 'deny', run: answer('deny') },
    ],
  });
}

function listCmd(name: string): Command {
  return new Command(name)
    .description('pending approvals (all workspaces unless -w)')
    .action(async (_opts: unknown, cmd: Command) =>
      printList(Context.of(cmd), cmd.optsWithGlobals<ListOpts>()),
    );
}

function answerCmd(name: string, answer: ApprovalAnswer, what: string): Command {
  return new Command(name)
    .description(what)
    .argument('[ids...]', 'approval ids (see `corral approvals`)')
    .option('--all', 'every pending approval in the workspace (-w, default: the current folder)')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd);
      const opts = cmd.optsWithGlobals<{ all?: boolean; workdir?: string }>();
      const { answered } = await answerApprovals(ctx, { ...opts, ids, answer }, (id, word) =>
        ctx.note(`${id}: ${word}`),
      );
      if (opts.all && !answered.length) ctx.note('no approvals waiting in this workspace');
    });
}

export function approvalsCommand(): Command {
  // -w and --json belong to `approvals` and reach its subcommands (commander hands a parent's options down).
  const approvals = new Command('approvals')
    .description(
      "answer agents' requests to run host commands (and start services): list, allow, always, deny; interactive at a terminal",
    )
    .option(
      '-w, --workdir <dir>',
      'only this workspace (for --all: the workspace; default the current folder)',
    )
    .option('--json', 'print JSON (list)')
    .action(async (opts: ListOpts, cmd: Command) => {
      if (process.stdin.isTTY && process.stdout.isTTY && !opts.json) return review(Context.of(cmd), opts);
      return printList(Context.of(cmd), opts);
    });
  approvals.addCommand(listCmd('list'));
  approvals.addCommand(answerCmd('allow', 'once', 'allow once'));
  approvals.addCommand(
    answerCmd('always', 'always', 'allow, and allow the same command from now on in its workspace'),
  );
  approvals.addCommand(answerCmd('deny', 'deny', 'refuse'));
  return approvals;
}
