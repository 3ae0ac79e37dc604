/**
 * `corral provider add|list|models|refresh|remove|export|import`: named model endpoints for
 * `corral run A --provider NAME`. Keys are read here (a flag naming an env var, a hidden prompt on a
 * terminal, or stdin) and handed to the core, which keeps them in the host store; none is printed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import {
  addProvider,
  type ExportedProvider,
  exportProviders,
  importProviders,
  PROVIDER_KINDS,
  type ProviderView,
  providerList,
  providerModels,
  refreshProviders,
  removeProvider,
} from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { Context } from '../context.js';
import { table } from '../table.js';

interface KeyFlags {
  keyFromEnv?: string;
  key?: boolean;
}

/** A line typed on the terminal without echoing it. */
function askHidden(ctx: Context, question: string): Promise<string> {
  ctx.io.stderr.write(question);
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: ctx.io.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      ctx.io.stderr.write('\n');
      resolve(answer.trim());
    });
  });
}

async function readStdinLines(ctx: Context): Promise<string[]> {
  const parts: Buffer[] = [];
  for await (const c of ctx.io.stdin) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim());
}

function envKey(ctx: Context, name: string): string {
  const value = ctx.env[name];
  if (!value) {
    throw new CorralError('BAD_INPUT', `--key-from-env ${name}: that variable is not set or empty.`);
  }
  return value;
}

/** Keys in order: the named env var for every one, a prompt on a terminal, else stdin's lines. */
function keySource(ctx: Context, flags: KeyFlags): (label: string) => Promise<string | undefined> {
  if (flags.key === false) return async () => undefined;
  if (flags.keyFromEnv) {
    const name = flags.keyFromEnv;
    return async () => envKey(ctx, name);
  }
  if (ctx.io.stdin.isTTY)
    return async (label) => (await askHidden(ctx, `API key for ${label} (empty: none): `)) || undefined;
  let lines: Promise<string[]> | undefined;
  return async () => {
    lines ??= readStdinLines(ctx);
    return (await lines).shift() || undefined;
  };
}

const keyOptions = (cmd: Command) =>
  cmd
    .option('--key-from-env <VAR>', 'read the API key from this environment variable')
    .option('--no-key', 'the endpoint needs no key (else: asked on a terminal, or read from stdin)');

async function printProviders(ctx: Context, list: ProviderView[]): Promise<void> {
  if (!list.length) return ctx.note('no providers (`corral provider add NAME --kind openai --url URL`)');
  const rows = list.map((p) => [
    p.name,
    p.kind,
    p.url,
    p.defaultModel ?? '-',
    String(p.models.length),
    p.key ? 'stored' : 'none',
    p.agents.join(','),
  ]);
  ctx.print(await table(['NAME', 'KIND', 'URL', 'DEFAULT MODEL', 'MODELS', 'KEY', 'AGENTS'], rows));
}

function addCommand(): Command {
  return keyOptions(
    new Command('add')
      .description('add a named model endpoint; its models are read from the endpoint')
      .argument('<name>', 'a name for it (lowercase, e.g. ollama, work)')
      .requiredOption(
        '--kind <kind>',
        `${PROVIDER_KINDS.join(' | ')} (openai: any OpenAI-compatible endpoint)`,
      )
      .requiredOption(
        '--url <url>',
        'the endpoint root, e.g. https://api.openai.com or http://127.0.0.1:11434',
      )
      .option('--model <model>', 'the default model (default: the first one listed)')
      .option('--no-discover', 'do not read the model list now (`corral provider refresh` later)')
      .option('--force', 'replace a provider of the same name')
      .option('--json', 'print JSON'),
  ).action(
    async (name: string, opts: KeyFlags & Record<string, string | boolean | undefined>, cmd: Command) => {
      const ctx = Context.of(cmd);
      const key = await keySource(ctx, opts)(name);
      const added = await addProvider(ctx, {
        name,
        kind: String(opts.kind),
        url: String(opts.url),
        key,
        model: opts.model as string | undefined,
        discover: opts.discover !== false,
        force: Boolean(opts.force),
      });
      if (opts.json) return ctx.json(added);
      ctx.note(
        `added ${added.name}: ${added.models.length} model(s), default ${added.defaultModel ?? 'none'}; use it with \`corral run ${added.agents[0] ?? 'AGENT'} --provider ${added.name}\``,
      );
    },
  );
}

function importCommand(): Command {
  return keyOptions(
    new Command('import')
      .description('add providers from `corral provider export` output; asks for each key')
      .argument('[file]', 'the export (default: stdin when no key is read from it)')
      .option('--force', 'replace providers of the same names')
      .option('--json', 'print JSON'),
  ).action(
    async (file: string | undefined, opts: KeyFlags & { force?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!file && !opts.keyFromEnv && opts.key !== false) {
        throw new CorralError(
          'BAD_INPUT',
          'Give the export as a file when keys come from stdin or a terminal.',
          'corral provider import providers.json (or --key-from-env VAR / --no-key with the export on stdin)',
        );
      }
      const text = file ? await readFile(file, 'utf8') : (await readStdinLines(ctx)).join('\n');
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (e) {
        throw new CorralError('BAD_INPUT', `${file ?? 'stdin'} is not JSON: ${(e as Error).message}`);
      }
      const ask = keySource(ctx, opts);
      const imported = await importProviders(ctx, {
        document,
        askKey: (p: ExportedProvider) => ask(`${p.name} (${p.url})`),
        force: Boolean(opts.force),
      });
      if (opts.json) return ctx.json(imported);
      await printProviders(ctx, imported);
    },
  );
}

export function providerCommand(): Command {
  const provider = new Command('provider').description(
    'named model endpoints (OpenAI-compatible, Anthropic, Gemini, Ollama) for `corral run A --provider NAME`',
  );
  provider.addCommand(addCommand());
  provider.addCommand(
    new Command('list')
      .description('the providers, their default models and whether a key is stored')
      .option('--json', 'print JSON')
      .action(async (opts: { json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const list = await providerList();
        if (opts.json) return ctx.json(list);
        await printProviders(ctx, list);
      }),
  );
  provider.addCommand(
    new Command('models')
      .description("a provider's models as last read (`refresh` reads them again)")
      .argument('<name>')
      .option('--json', 'print JSON')
      .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const m = await providerModels(name);
        if (opts.json) return ctx.json(m);
        for (const id of m.models) ctx.print(id === m.defaultModel ? `${id} (default)` : id);
      }),
  );
  provider.addCommand(
    new Command('refresh')
      .description('read the model lists again (one provider, or all)')
      .argument('[name]')
      .option('--model <model>', 'also make this the default model')
      .option('--json', 'print JSON')
      .action(async (name: string | undefined, opts: { model?: string; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const list = await refreshProviders(ctx, { name, model: opts.model });
        if (opts.json) return ctx.json(list);
        await printProviders(ctx, list);
      }),
  );
  provider.addCommand(
    new Command('remove')
      .description('forget a provider and its stored key')
      .argument('<name>')
      .option('--json', 'print JSON')
      .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const removed = await removeProvider(name);
        if (opts.json) return ctx.json({ name, removed });
        ctx.note(removed ? `removed ${name}` : `no provider named ${name}`);
      }),
  );
  provider.addCommand(
    new Command('export')
      .description('the providers as JSON, without keys (for `corral provider import`)')
      .argument('[names...]')
      .option('-o, --output <file>', 'write to this file instead of stdout')
      .option('--json', 'print JSON (the only format)')
      .action(async (names: string[], opts: { output?: string }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const doc = await exportProviders(names);
        if (opts.output) {
          await writeFile(opts.output, `${JSON.stringify(doc, null, 2)}\n`);
          return ctx.note(`wrote ${doc.providers.length} provider(s) to ${opts.output} (no keys)`);
        }
        ctx.json(doc);
      }),
  );
  provider.addCommand(importCommand());
  return provider;
}
