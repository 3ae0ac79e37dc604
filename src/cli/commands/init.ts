/** `corral init`: commented starters for a project's `.corral.yaml` and image extension. */
import { Command } from 'commander';
import { CONTAINERFILES, initProject, PROJECT_FILE } from '../../core/index.js';
import { Context } from '../context.js';

export function initCommand(): Command {
  return new Command('init')
    .description(`write commented starters: ${PROJECT_FILE} and ${CONTAINERFILES[1]} (image extension)`)
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .option('-a, --agent <name>', 'set default_agent')
    .option('--force', 'overwrite files that exist')
    .action(async (dir: string | undefined, opts: { agent?: string; force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const r = await initProject(ctx, { workdir: dir, agent: opts.agent, force: opts.force });
      for (const f of r.files)
        ctx.note(f.action === 'kept' ? `kept ${f.name} (exists; --force overwrites)` : `wrote ${f.name}`);
      ctx.note('Review them, then run `corral trust` so corral honours what widens the sandbox.');
    });
}
