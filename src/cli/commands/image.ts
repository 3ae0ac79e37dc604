/** `corral image build|list|prune` and `corral update`. */
import { Command } from 'commander';
import { AGENTS, resolveAgent } from '../../agents/index.js';
import { CorralError } from '../../errors.js';
import { consoleProgress, ensureAgentImage, resolveAgentVersion } from '../../images/build.js';
import { currentTags, listCorralImages, pruneImages } from '../../images/inventory.js';
import { chosenVersion, readPins, writePin } from '../../images/pins.js';
import { buildSettings } from '../../sandbox/image.js';
import { Context } from '../context.js';
import { table } from '../table.js';

async function current(ctx: Context): Promise<Set<string>> {
  const config = await ctx.config();
  const pins = await readPins();
  const versions = Object.fromEntries(
    AGENTS.map((a) => [a.name, chosenVersion(config.agents[a.name]?.version, pins, a.name)]),
  );
  return currentTags(AGENTS, versions, buildSettings(config));
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`;
}

async function build(
  ctx: Context,
  names: string[],
  opts: { all?: boolean; rebuild?: boolean; cache?: boolean; version?: string; pin?: boolean },
) {
  if (!opts.all && names.length === 0) {
    throw new CorralError(
      'BAD_INPUT',
      'Which agent images?',
      'Name agents (`corral image build claude codex`) or pass --all.',
    );
  }
  const agents = opts.all ? [...AGENTS] : names.map(resolveAgent);
  const config = await ctx.config();
  const engine = await ctx.engine();
  const progress = consoleProgress(process.stderr);
  const pins = await readPins();
  for (const agent of agents) {
    const requested = opts.version ?? chosenVersion(config.agents[agent.name]?.version, pins, agent.name);
    // Resolve `latest` once, so the pin and the build agree.
    const version = requested ? (await resolveAgentVersion(agent, requested)).version : undefined;
    const { tag, built } = await ensureAgentImage(engine, agent, {
      ...(version ? { version } : {}),
      ...(opts.rebuild ? { rebuild: true } : {}),
      ...(opts.cache === false ? { noCache: true } : {}),
      settings: buildSettings(config),
      progress,
    });
    if (opts.pin && version) await writePin(agent.name, version);
    ctx.print(
      `${agent.name}${version ? ` ${version}` : ''}: ${built.length ? `built ${tag}` : `${tag} is up to date`}`,
    );
  }
}

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
        await build(Context.of(cmd), names, opts);
      },
    );
  image
    .command('list')
    .alias('ls')
    .description('list corral images')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const images = await listCorralImages(await ctx.engine(), await current(ctx));
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
      const removed = await pruneImages(await ctx.engine(), await current(ctx), {
        ...(opts.all ? { all: true } : {}),
      });
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
      let targets = names;
      if (!targets.length) {
        const images = await listCorralImages(await ctx.engine(), new Set());
        targets = [...new Set(images.flatMap((i) => (i.agent ? [i.agent] : [])))];
        if (!targets.length)
          throw new CorralError(
            'BAD_INPUT',
            'No agent images to update.',
            'Name an agent: `corral update claude`.',
          );
      }
      const config = await ctx.config();
      for (const a of targets.map(resolveAgent)) {
        const pinned = config.agents[a.name]?.version;
        if (pinned)
          ctx.note(
            `${a.name}: config pins ${pinned}, so runs keep using it (remove agents.${a.name}.version to follow updates)`,
          );
      }
      await build(ctx, targets, { version: 'latest', pin: true });
    });
}
