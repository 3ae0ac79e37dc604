/** `corral sessions list|play|rm`: recorded terminal sessions (asciicast v2). */
import { Command } from 'commander';
import { listTranscripts, playTranscript, removeTranscripts } from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { Context } from '../context.js';
import { table } from '../table.js';

export function sessionsCommand(): Command {
  const sessions = new Command('sessions').description('recorded terminal sessions (asciicast v2)');
  sessions
    .command('list')
    .alias('ls')
    .description('list recorded sessions, oldest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listTranscripts(ctx);
      if (opts.json) return ctx.json(all);
      if (!all.length) return ctx.note('no recorded sessions');
      ctx.print(
        await table(
          ['ID', 'AGENT', 'STARTED', 'LENGTH', 'WORKSPACE'],
          all.map((s) => [
            s.id,
            s.agent,
            s.started.replace('T', ' ').slice(0, 19),
            `${Math.round(s.seconds)}s`,
            s.workspace,
          ]),
        ),
      );
    });
  sessions
    .command('play')
    .description('replay a session in this terminal')
    .argument('<id>', 'session id (a unique prefix is enough)')
    .option('--speed <n>', 'playback speed; 0 prints it all at once', '1')
    .action(async (id: string, opts: { speed: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed < 0)
        throw new CorralError('BAD_INPUT', `--speed expects a number ≥ 0, not "${opts.speed}".`);
      await playTranscript(ctx, { id, speed }, ctx.io.stdout);
    });
  sessions
    .command('rm')
    .description('delete recorded sessions')
    .argument('[ids...]', 'session ids')
    .option('--all', 'every recorded session')
    .action(async (ids: string[], opts: { all?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const targets = await removeTranscripts(ctx, { ids, ...opts });
      ctx.note(`deleted ${targets.length} session(s)`);
    });
  return sessions;
}
