/** `corral daemon start|stop|status|logs` and `corral web`: the per-user daemon and its web UI. */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import {
  type DaemonStatus,
  DEFAULT_LISTEN,
  daemonPaths,
  daemonStatus,
  readToken,
  setDaemonAuto,
  startDaemon,
  stopDaemon,
} from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { Context } from '../context.js';

function describe(s: DaemonStatus): string {
  if (!s.running) return `not running (socket ${s.socket})`;
  return [
    `running, pid ${s.pid}, corral ${s.version} (build ${s.build}${s.stale ? ', another build than this command: restart it' : ''})`,
    `socket: ${s.socket}`,
    `http:   ${s.url ?? 'off (corral daemon start --listen 127.0.0.1:7450)'}`,
    `token:  ${s.tokenFile}`,
    `log:    ${s.logFile}`,
    `attached terminals: ${s.attached ?? 0}`,
  ].join('\n');
}

export function daemonCommand(): Command {
  const daemon = new Command('daemon').description('the per-user corral daemon (API, events, web UI)');
  daemon
    .command('start')
    .description('start the daemon in the background (a no-op if this build already runs)')
    .option('--listen <host:port>', `also serve HTTP (the web UI) here, e.g. ${DEFAULT_LISTEN}`)
    .option('--public', 'allow a --listen address other than loopback (reachable from other machines)')
    .option('--auto', 'let commands that benefit start the daemon on demand from now on')
    .option('--json', 'print the status as JSON')
    .action(
      async (opts: { listen?: string; public?: boolean; auto?: boolean; json?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const paths = daemonPaths(ctx.env);
        if (opts.public && opts.listen)
          ctx.note(`corral: warning: --public: ${opts.listen} may be reachable from other machines`);
        const s = await startDaemon(paths, {
          ...(opts.listen ? { listen: opts.listen } : {}),
          ...(opts.public ? { public: true } : {}),
          env: ctx.env,
        });
        if (opts.auto) await setDaemonAuto(paths, true);
        if (opts.json) return ctx.json(s);
        ctx.note(s.started ? 'daemon started' : 'daemon already running');
        ctx.print(describe(s));
      },
    );
  daemon
    .command('stop')
    .description('stop the daemon (sandboxes keep running); also turns off --auto')
    .action(async (_opts, cmd: Command) => {
      const ctx = Context.of(cmd);
      const paths = daemonPaths(ctx.env);
      const was = await stopDaemon(paths);
      await setDaemonAuto(paths, false);
      ctx.note(was ? 'daemon stopped' : 'daemon was not running');
    });
  daemon
    .command('status')
    .description('whether the daemon runs, where, and which build')
    .option('--json', 'print JSON (socket, url, tokenFile, pid, build, …)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const s = await daemonStatus(daemonPaths(ctx.env));
      if (opts.json) return ctx.json(s);
      ctx.print(describe(s));
      if (!s.running) process.exitCode = 3;
    });
  daemon
    .command('logs')
    .description("the daemon's log")
    .option('-f, --follow', 'keep printing new lines')
    .action(async (opts: { follow?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const file = daemonPaths(ctx.env).logFile;
      if (!existsSync(file)) return ctx.note('the daemon has not logged anything yet');
      await follow(file, Boolean(opts.follow), (chunk) => ctx.io.stdout.write(chunk));
    });
  return daemon;
}

async function follow(file: string, keep: boolean, out: (chunk: Buffer) => void): Promise<void> {
  let offset = 0;
  const more = async () => {
    const size = (await stat(file).catch(() => undefined))?.size ?? 0;
    if (size <= offset) return;
    for await (const c of createReadStream(file, { start: offset, end: size - 1 })) out(c as Buffer);
    offset = size;
  };
  await more();
  if (!keep) return;
  let busy = Promise.resolve();
  watch(file, () => {
    busy = busy.then(more);
  });
  await new Promise(() => {});
}

export function webCommand(): Command {
  return new Command('web')
    .description('open the web UI (starts the daemon with HTTP on 127.0.0.1 if needed)')
    .option('--listen <host:port>', 'HTTP address when the daemon has to start', DEFAULT_LISTEN)
    .option('--no-open', 'print the address instead of opening a browser')
    .action(async (opts: { listen: string; open: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const paths = daemonPaths(ctx.env);
      let s = await daemonStatus(paths);
      if (!s.running || !s.url || s.stale)
        s = await startDaemon(paths, { listen: opts.listen, env: ctx.env });
      const token = await readToken(paths.tokenFile);
      if (!s.url || !token)
        throw new CorralError(
          'DAEMON_FAILED',
          'The daemon has no HTTP address.',
          'See `corral daemon logs`.',
        );
      // The token goes in the address once: /login trades it for a cookie and drops it from the URL.
      const address = `${s.url}/login?token=${token}`;
      if (opts.open && ctx.env.DISPLAY) {
        const child = spawn('xdg-open', [address], { stdio: 'ignore', detached: true });
        child.on('error', () => ctx.print(`open ${address}`));
        child.unref();
        ctx.note(`opening ${s.url}`);
      } else ctx.print(address);
    });
}
