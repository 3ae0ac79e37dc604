/**
 * `corral skills add|list|remove|sync`: agent skills from a git URL or a local path, pinned in a
 * lockfile and installed into each agent's skills folder in its home volume at sandbox start.
 */
import { Command } from 'commander';
import { addSkill, listSkills, removeSkill, syncSkills } from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const short = (s?: string) => (s ? s.slice(0, 12) : '-');

export function skillsCommand(): Command {
  const cmd = new Command('skills')
    .description("Install agent skills (folders with a SKILL.md) into agents' homes, pinned in a lockfile")
    .addHelpText(
      'after',
      [
        '',
        'Sources are cloned on this machine with your own git and credentials, never inside a sandbox.',
        "A sandbox started afterwards copies the locked skills into the agent's skills folder",
        '(e.g. ~/.claude/skills/<name>/SKILL.md) and removes the ones you removed.',
        '',
        'Examples:',
        '  corral skills add https://github.com/org/skills.git#v1.2 --agent claude',
        '  corral skills add ./my-skill',
        '  corral skills sync --json',
      ].join('\n'),
    );

  cmd
    .command('add <source>')
    .description('add the skills in a git URL or local path (optionally #ref: branch, tag or commit)')
    .option(
      '--agent <agent>',
      'only for this agent (repeatable; default: every agent with a skills folder)',
      collect,
      [],
    )
    .option('--json', 'print the locked entries as JSON')
    .action(async (source: string, opts: { agent: string[]; json?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const { added } = await addSkill(ctx, { source, agents: opts.agent });
      if (opts.json) return ctx.json(added);
      for (const s of added)
        ctx.note(
          `added skill ${s.name} (${s.commit ? `commit ${short(s.commit)}, ` : ''}content ${short(s.hash)}) for ${s.agents.includes('*') ? 'every agent with a skills folder' : s.agents.join(', ')}; sandboxes started from now on get it`,
        );
    });

  cmd
    .command('list')
    .description('the locked skills')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const r = await listSkills(ctx);
      if (opts.json) return ctx.json(r);
      if (!r.skills.length) return ctx.note('no skills; add one with `corral skills add <git-url|path>`');
      ctx.print(
        await table(
          ['NAME', 'AGENTS', 'SOURCE', 'REF', 'COMMIT', 'CONTENT', 'STORED'],
          r.skills.map((s) => [
            s.name,
            s.agents.join(','),
            s.path ? `${s.source} (${s.path})` : s.source,
            s.ref ?? '-',
            short(s.commit),
            short(s.hash),
            s.stored ? 'yes' : 'no (sync)',
          ]),
        ),
      );
    });

  cmd
    .command('remove <name>')
    .alias('rm')
    .description("remove a skill: sandboxes started from now on delete it from the agent's home")
    .option('--json', 'print the removed entry as JSON')
    .action(async (name: string, opts: { json?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const { removed } = await removeSkill(ctx, name);
      if (opts.json) return ctx.json(removed);
      ctx.note(`removed skill ${removed.name}`);
    });

  cmd
    .command('sync')
    .description('re-fetch every skill at its locked commit, and report skills whose source has changed')
    .option('--update', 'take the changed version into the lock')
    .option('--json', 'print JSON')
    .action(async (opts: { update?: boolean; json?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const results = await syncSkills(ctx, { update: opts.update ?? false });
      if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
      if (opts.json) return ctx.json(results);
      if (!results.length) return ctx.note('no skills to sync');
      ctx.print(
        await table(
          ['NAME', 'STATUS', 'CONTENT', 'UPSTREAM'],
          results.map((r) => [
            r.name,
            r.detail ? `${r.status}: ${r.detail}` : r.status,
            short(r.hash),
            r.updated
              ? 'updated'
              : r.upstreamChanged
                ? `changed (${short(r.upstreamHash)}; --update takes it)`
                : 'same',
          ]),
        ),
      );
    });
  return cmd;
}
