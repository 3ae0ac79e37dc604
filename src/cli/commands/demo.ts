/**
 * `corral demo`: the real Claude Code CLI in a sandbox, driven by corral's scripted model, editing
 * a file in a demo workspace. No API key needed; with ANTHROPIC_API_KEY set and --live, the real
 * model is used instead.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_SCRIPT_PATH, resolveAgent, startScriptedModel } from '../../core/index.js';
import { Context } from '../context.js';
import { start } from './run.js';

const PROMPT = 'Create hello.txt in the current folder with a greeting that says who you are running as.';

export function demoCommand(): Command {
  return new Command('demo')
    .description('watch Claude Code create a file in a sandbox, against a built-in scripted model')
    .argument('[dir]', 'demo workspace folder', 'corral-demo')
    .option('--script <file>', 'model script to replay', DEFAULT_SCRIPT_PATH)
    .option('--agent <agent>', 'agent to run (one that accepts a custom endpoint)', 'claude')
    .action(async (dir: string, opts: { script: string; agent: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const workdir = resolve(dir);
      await mkdir(workdir, { recursive: true });
      const agent = resolveAgent(opts.agent);
      // Sandboxes reach the host over the engine's bridge, so listen beyond loopback (the server
      // answers only loopback and container-network addresses).
      const server = await startScriptedModel({ host: '0.0.0.0', port: 0, scriptPath: opts.script });
      ctx.note(`scripted model server on port ${server.port} (script: ${opts.script})`);
      ctx.note(`running ${agent.displayName} in a sandbox on ${workdir} …`);
      try {
        const code = await start(ctx, {
          agent: agent.name,
          mode: 'agent',
          workdir,
          yolo: true,
          rm: true,
          modelUrl: `http://127.0.0.1:${server.port}`,
          prompt: PROMPT,
        });
        process.exitCode = code;
        if (code !== 0) return;
        const file = resolve(workdir, 'hello.txt');
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text === undefined) {
          ctx.note(`${agent.displayName} finished, but ${file} was not created.`);
          process.exitCode = 1;
          return;
        }
        ctx.print(`\n${agent.displayName} created ${file}:\n${text.trimEnd()}`);
        ctx.note(`(${server.requests.length} model requests served)`);
      } finally {
        await server.close();
      }
    });
}
