/** `corral sessions list|play|rm`: recorded terminal sessions (asciicast v2). */
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { CorralError } from '../../errors.js';
import { listSessions, playSession, type SessionSummary } from '../../sandbox/transcript.js';
import { Context } from '../context.js';
import { table } from '../table.js';

async function find(id: string): Promise<SessionSummary> {
  const all = await listSessions();
  const hit = all.filter((s) => s.id.startsWith(id));
  if (hit.length === 1) return hit[0]!;
  throw new CorralError(
    'BAD_INPUT',
    hit.length ? `"${id}" matches ${hit.length} sessions.` : `No recorded session "${id}".`,
    'See `corral sessions list`.',
  );
}

export function sessionsCommand(): Command {
  const sessions = new Command('sessions').description('recorded terminal sessions (asciicast v2)');
  sessions
    .command('list')
    .alias('ls')
    .description('list recorded sessions, oldest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const all = await listSessions();
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
      await playSession((await find(id)).file, ctx.io.stdout, speed);
    });
  sessions
    .command('rm')
    .description('delete recorded sessions')
    .argument('[ids...]', 'session ids')
    .option('--all', 'every recorded session')
    .action(async (ids: string[], opts: { all?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const targets = opts.all ? await listSessions() : await Promise.all(ids.map(find));
      if (!targets.length) throw new CorralError('BAD_INPUT', 'Which sessions?', 'Name ids or pass --all.');
      for (const s of targets) await rm(s.file, { force: true });
      ctx.note(`deleted ${targets.length} session(s)`);
    });
  return sessions;
}
