/** `corral model serve`: the scripted model server, for demos, tests, and pointing agents at. */
import { Command } from 'commander';
import { DEFAULT_SCRIPT_PATH, startScriptedModel } from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { Context } from '../context.js';

export function modelCommand(): Command {
  const model = new Command('model').description('the built-in scripted model server');
  model
    .command('serve')
    .description('answer Anthropic, OpenAI and Gemini API calls from a script of turns')
    .option('--port <port>', 'port (0 picks a free one)', '0')
    .option(
      '--host <host>',
      'address to listen on; sandboxes reach the host over the engine bridge, so the default listens on all and answers only loopback and container networks',
      '0.0.0.0',
    )
    .option('--script <file>', 'YAML script of turns', DEFAULT_SCRIPT_PATH)
    .option('--json', 'print the address as JSON')
    .action(async (opts: { port: string; host: string; script: string; json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      if (!/^\d+$/.test(opts.port))
        throw new CorralError('BAD_INPUT', `--port expects a number, not "${opts.port}".`);
      const server = await startScriptedModel({
        port: Number(opts.port),
        host: opts.host,
        scriptPath: opts.script,
        onRequest: (r) =>
          ctx.note(
            `${r.wire} ${r.path}${r.stream ? ' (stream)' : ''} → ${r.step === null ? 'side request' : `step ${r.step}`}`,
          ),
      });
      if (opts.json) ctx.print(JSON.stringify({ url: server.url, port: server.port, script: opts.script }));
      else
        ctx.print(
          `model server listening on ${server.url} (script: ${opts.script}); point agents at it with --model-url ${server.url}`,
        );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
  return model;
}
