/** `corral image build|list|prune` and `corral update`. */
import { Command } from 'commander';
import {
  type BuiltImage,
  buildImages,
  listImages,
  pruneCorralImages,
  updateImages,
} from '../../core/index.js';
import { Context } from '../context.js';
import { table } from '../table.js';

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`;
}

/** One line per image as it is done. */
const printBuilt = (ctx: Context) => (i: BuiltImage) =>
  ctx.print(
    `${i.agent}${i.version ? ` ${i.version}` : ''}: ${i.built ? `built ${i.tag}` : `${i.tag} is up to date`}`,
  );

export function imageCommand(): Command {
  const image = new Command('image').description('build, list and prune agent images');
  image
    .command('build')
    .description("build agents' images (only layers whose inputs changed)")
    .argument('[agents...]', 'agent names or aliases')
    .option('--all', 'every agent')
    .option('--rebuild', 'rebuild the agent layer even if it exists')
    .option('--no-cache', 'build without the engine cache')
    .action(
      async (names: string[], opts: { all?: boolean; rebuild?: boolean; cache?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        await buildImages(
          ctx,
          { agents: names, all: opts.all, rebuild: opts.rebuild, noCache: opts.cache === false },
          printBuilt(ctx),
        );
      },
    );
  image
    .command('list')
    .alias('ls')
    .description('list corral images')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const images = await listImages(ctx);
      if (opts.json) return ctx.json(images);
      if (!images.length) return ctx.note('no corral images yet; `corral image build claude` builds one');
      ctx.print(
        await table(
          ['IMAGE', 'KIND', 'AGENT', 'VERSION', 'SIZE', 'CURRENT'],
          images.map((i) => [
            i.tag,
            i.kind,
            i.agent ?? '',
            i.version ?? '',
            mb(i.size),
            i.current ? 'yes' : 'no',
          ]),
        ),
      );
    });
  image
    .command('prune')
    .description('remove corral images that no current recipe uses')
    .option('--all', 'remove every corral image (they rebuild on the next run)')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const removed = await pruneCorralImages(ctx, { all: opts.all });
      ctx.note(
        removed.length
          ? `removed ${removed.length} image(s):\n  ${removed.join('\n  ')}`
          : 'nothing to prune',
      );
    });
  return image;
}

export function updateCommand(): Command {
  return new Command('update')
    .description("rebuild agents' images with the newest published version of each CLI")
    .argument('[agents...]', 'agent names or aliases (default: every agent that has an image)')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd);
      await updateImages(ctx, { agents: names }, printBuilt(ctx));
    });
}
