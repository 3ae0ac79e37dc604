/**
 * `corral session new|send|attach|list|show|rm|resume`: several agents on one folder, talked to
 * with `@agent …` / `@all …`; each continues its own conversation. (Not `corral sessions`, which
 * lists recorded terminal sessions.)
 */
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import {
  type ChatDetail,
  type ChatMessageView,
  type ChatView,
  listChats,
  newChat,
  removeChat,
  sendToChat,
  showChat,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';
import { type RunOptions, sandboxOptions, toStartInput } from './sandbox-options.js';

type NewOptions = RunOptions & { agents: string; worktree?: boolean; json?: boolean };

const short = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');

function renderAnswer(ctx: Context, m: ChatMessageView): void {
  const mark = m.state === 'done' ? '' : ` (${m.state}${m.exitCode !== null ? `, exit ${m.exitCode}` : ''})`;
  ctx.print(`── ${m.author}${mark} ──`);
  ctx.print(m.text);
}

function renderHistory(ctx: Context, d: ChatDetail): void {
  for (const m of d.messages) {
    if (m.author === 'user') ctx.print(`\n» ${m.text}`);
    else renderAnswer(ctx, m);
  }
}

function describe(ctx: Context, c: ChatView): void {
  ctx.print(`session:   ${c.name} (${c.id})`);
  ctx.print(`workspace: ${c.workspace}${c.worktree ? ' (a worktree per agent)' : ''}`);
  ctx.print(`created:   ${short(c.created)}`);
  for (const a of c.agents) {
    const where = a.branch ? ` on ${a.branch}` : '';
    ctx.print(`agent:     ${a.agent}${where}${a.conversation ? ` — conversation ${a.conversation}` : ''}`);
  }
}

/** Send one message and print the answers as they come (JSON: all of it at the end). */
async function send(ctx: Context, session: string, message: string, json: boolean): Promise<boolean> {
  const sent = await sendToChat(ctx, { session, message }, json ? undefined : (m) => renderAnswer(ctx, m));
  if (!json) ctx.note(`corral: asked ${sent.pending.map((p) => p.author).join(', ')} (turn ${sent.turn})`);
  const answers = await sent.done;
  if (json) ctx.json({ session: sent.session.name, id: sent.session.id, turn: sent.turn, answers });
  return answers.every((a) => a.state === 'done');
}

/** A prompt line: each line is a message; answers print as they come. Ends at EOF or /quit. */
async function attach(ctx: Context, session: string, json: boolean): Promise<void> {
  const detail = await showChat(ctx, { session });
  if (!json) {
    renderHistory(ctx, detail);
    ctx.note(
      `corral: session ${detail.name} — agents ${detail.agents.map((a) => `@${a.agent}`).join(' ')}; @all for all of them; /quit or Ctrl-D to leave`,
    );
  }
  const rl = createInterface({
    input: ctx.io.stdin,
    output: ctx.io.stdout,
    prompt: `${detail.name}> `,
    terminal: Boolean(ctx.io.stdin.isTTY),
  });
  if (!json) rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') break;
    if (text) {
      try {
        const sent = await sendToChat(ctx, { session: detail.id, message: text }, (m) =>
          json ? ctx.print(JSON.stringify(m)) : renderAnswer(ctx, m),
        );
        await sent.done;
      } catch (e) {
        // A bad address or a busy agent: say so and keep the prompt.
        ctx.note(`corral: ${(e as Error).message}`);
      }
    }
    if (!json) rl.prompt();
  }
  rl.close();
}

function newCommand(): Command {
  return sandboxOptions(
    new Command('new')
      .description('make a session: several agents on one folder (or one worktree each)')
      .argument('<name>', 'the session name'),
  )
    .requiredOption('--agents <list>', 'comma-separated agents, e.g. claude,codex')
    .option(
      '--worktree',
      'each agent works in its own git worktree (branch corral/<agent>/session-<name>-<agent>)',
    )
    .option('--no-yolo', "keep the agents' own permission prompts (headless they then cannot use tools)")
    .option('--json', 'print the session')
    .action(async (name: string, opts: NewOptions, cmd: Command) => {
      const ctx = Context.of(cmd);
      const {
        prompt: _p,
        workdir,
        detach: _d,
        dryRun: _r,
        name: _n,
        join: _j,
        rm: _rm,
        ...start
      } = toStartInput(opts);
      const c = await newChat(ctx, {
        ...start,
        name,
        agents: opts.agents.split(','),
        workdir,
        worktree: opts.worktree,
      });
      if (opts.json) return ctx.json(c);
      describe(ctx, c);
      ctx.note(`corral: \`corral session send ${c.name} "@all …"\` or \`corral session attach ${c.name}\``);
    });
}

export function chatSessionCommand(): Command {
  const session = new Command('session').description(
    'several agents on one folder: new, send "@agent …" / "@all …", attach, list, show, rm, resume',
  );
  session.addCommand(newCommand());
  session
    .command('send')
    .description('send a message to some or all of the agents and print their answers')
    .argument('<session>', 'session name or id prefix')
    .argument('<message...>', '"@claude …", "@claude @codex …" or "@all …" (no @: every agent)')
    .option('--json', 'print {"session","id","turn","answers"} when all have answered')
    .action(async (ref: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!(await send(ctx, ref, words.join(' '), Boolean(opts.json)))) process.exitCode = 1;
    });
  session
    .command('attach')
    .description('talk to a session on a prompt line (answers printed per agent)')
    .argument('<session>', 'session name or id prefix')
    .option('--json', 'print each answer as a JSON line')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      await attach(Context.of(cmd), ref, Boolean(opts.json));
    });
  session
    .command('list')
    .alias('ls')
    .description('list sessions, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listChats(ctx);
      if (opts.json) return ctx.json(all);
      if (!all.length)
        return ctx.note('no sessions — `corral session new NAME --agents claude,codex` makes one');
      ctx.print(
        await table(
          ['ID', 'NAME', 'AGENTS', 'TURNS', 'CREATED', 'WORKSPACE'],
          all.map((c) => [
            c.id,
            c.name,
            c.agents.map((a) => a.agent).join(','),
            String(c.turns),
            short(c.created),
            `${c.workspace}${c.worktree ? ' (worktrees)' : ''}`,
          ]),
        ),
      );
    });
  session
    .command('show')
    .description("a session's agents and history")
    .argument('<session>', 'session name or id prefix')
    .option('--json', 'print JSON (the session with its messages)')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const d = await showChat(ctx, { session: ref });
      if (opts.json) return ctx.json(d);
      describe(ctx, d);
      renderHistory(ctx, d);
    });
  session
    .command('rm')
    .description('forget a session and its history (worktrees stay: `corral worktree rm`)')
    .argument('<session>', 'session name or id prefix')
    .option('--json', 'print the removed session')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const c = await removeChat(ctx, { session: ref });
      if (opts.json) return ctx.json(c);
      ctx.note(`removed session ${c.name} (${c.id})`);
    });
  session
    .command('resume')
    .description('continue a session by id prefix: send a message, or attach without one')
    .argument('<id>', 'session id prefix (or name)')
    .argument('[message...]', 'a message to send ("@agent …" / "@all …")')
    .option('--json', 'print JSON')
    .action(async (ref: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!words.length) return attach(ctx, ref, Boolean(opts.json));
      if (!(await send(ctx, ref, words.join(' '), Boolean(opts.json)))) process.exitCode = 1;
    });
  return session;
}
