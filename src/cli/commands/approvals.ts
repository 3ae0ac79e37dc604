/**
 * `corral approvals [list] [--json]`, `corral approvals allow|always|deny <id>|--all`: answer what
 * agents wait for, from any terminal (detached runs have no other place to ask).
 */
import { Command } from 'commander';
import type { ApprovalAnswer } from '../../bridge/approvals.js';
import { CorralError } from '../../errors.js';
import { resolveWorkspace } from '../../sandbox/identity.js';
import { Context } from '../context.js';
import { table } from '../table.js';

const queue = async () => new (await import('../../bridge/approval-queue.js')).ApprovalQueue();
const prompt = () => import('../../bridge/prompt.js');

const left = (expires: number) => `${Math.max(0, Math.round((expires - Date.now()) / 1000))}s`;

function listCmd(name: string): Command {
  return new Command(name)
    .description('pending approvals (all workspaces unless -w)')
    .option('-w, --workdir <dir>', 'only this workspace')
    .option('--json', 'print JSON')
    .action(async (opts: { workdir?: string; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = opts.workdir ? await resolveWorkspace(opts.workdir) : undefined;
      const pending = await (await queue()).list(ws ? { workspace: ws.path } : {});
      if (opts.json) return ctx.json(pending.map(({ pid: _pid, ...p }) => p));
      if (!pending.length) return ctx.note('no approvals waiting');
      const { summarizeApproval } = await prompt();
      ctx.print(
        await table(
          ['ID', 'KIND', 'WHAT', 'TIME LEFT', 'WORKSPACE'],
          pending.map((p) => [p.id, p.kind, summarizeApproval(p), left(p.expires), p.workspace]),
        ),
      );
    });
}

function answerCmd(name: string, answer: ApprovalAnswer, what: string): Command {
  return new Command(name)
    .description(what)
    .argument('[ids...]', 'approval ids (see `corral approvals`)')
    .option('--all', 'every pending approval in the workspace (-w, default: the current folder)')
    .option('-w, --workdir <dir>', 'workspace for --all')
    .action(async (ids: string[], opts: { all?: boolean; workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!opts.all && !ids.length) {
        throw new CorralError(
          'BAD_INPUT',
          'Which approval?',
          'Name ids from `corral approvals`, or pass --all.',
        );
      }
      if (opts.all && ids.length) {
        throw new CorralError('BAD_INPUT', 'Give approval ids or --all, not both.');
      }
      const q = await queue();
      const targets = opts.all
        ? (await q.list({ workspace: (await resolveWorkspace(opts.workdir ?? process.cwd())).path })).map(
            (p) => p.id,
          )
        : ids;
      if (opts.all && !targets.length) return ctx.note('no approvals waiting in this workspace');
      const missed: string[] = [];
      for (const id of targets) {
        if (await q.answer(id, answer)) ctx.note(`${id}: ${(await prompt()).ANSWER_WORDS[answer]}`);
        else missed.push(id);
      }
      if (missed.length) {
        throw new CorralError(
          'BAD_INPUT',
          `Not waiting for an answer: ${missed.join(', ')}.`,
          'It was answered already, timed out, or its run ended; see `corral approvals`.',
        );
      }
    });
}

export function approvalsCommand(): Command {
  const approvals = new Command('approvals').description(
    "answer agents' requests to run host commands (and start services): list, allow, always, deny",
  );
  approvals.addCommand(listCmd('list'), { isDefault: true });
  approvals.addCommand(answerCmd('allow', 'once', 'allow once'));
  approvals.addCommand(
    answerCmd('always', 'always', 'allow, and allow the same command from now on in its workspace'),
  );
  approvals.addCommand(answerCmd('deny', 'deny', 'refuse'));
  return approvals;
}
