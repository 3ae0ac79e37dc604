/** `corral mask`, `corral unmask`, `corral clean`: the shape and lifetime of a workspace. */
import { Command } from 'commander';
import { addMasks, cleanWorkspace, listMasks, removeMasks } from '../../core/index.js';
import { Context } from '../context.js';

export function maskCommand(): Command {
  return new Command('mask')
    .description(
      'shadow workspace folders (node_modules, target, .venv) with a per-workspace volume in the sandbox',
    )
    .argument('[dirs...]', 'folders relative to the workspace; none: list the masks')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (dirs: string[], opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!dirs.length) {
        const masks = await listMasks(ctx, { workdir: opts.workdir });
        return masks.length ? ctx.print(masks.join('\n')) : ctx.note('no masks in this workspace');
      }
      const now = await addMasks(ctx, { workdir: opts.workdir, dirs });
      ctx.note(`masked: ${now.join(', ')} (takes effect for new sandboxes)`);
    });
}

export function unmaskCommand(): Command {
  return new Command('unmask')
    .description('stop masking folders and delete their volumes')
    .argument('<dirs...>', 'folders relative to the workspace')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (dirs: string[], opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const valid = await removeMasks(ctx, { workdir: opts.workdir, dirs });
      ctx.note(`unmasked: ${valid.join(', ')}`);
    });
}

export function cleanCommand(): Command {
  return new Command('clean')
    .description(
      "remove this workspace's sandboxes, networks, mask volumes and agent homes (logins stay in corral's store)",
    )
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .option('--all', "also delete every workspace's agent homes and old shared home volumes")
    .action(async (opts: { workdir?: string; all?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const removed = await cleanWorkspace(ctx, { workdir: opts.workdir, all: opts.all });
      ctx.note(removed.length ? `removed:\n  ${removed.join('\n  ')}` : 'nothing to clean');
    });
}
