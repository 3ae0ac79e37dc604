/**
 * Host commands of one bridge session: started in their own process group (so stop reaches their
 * children too), with stdout/stderr going straight into files under
 * `<workspace>/.corral/commands/<session>/<id>/` that the agent can read itself.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { constants as os } from 'node:os';
import { CorralError } from '../errors.js';
import { execArgv } from './argv.js';
import { hostCommandEnv } from './host-env.js';
import { forgetRunning, recordRunning } from './registry.js';
import { createExclusive, openSafeDir, readTail, type SafeDir, writeExclusive } from './safe-fs.js';

export type CommandState = 'running' | 'finished' | 'killed';

export interface CommandInfo {
  id: string;
  session: string;
  command: string;
  state: CommandState;
  exitCode?: number;
  startedAt?: string;
  /** Workspace-relative folder holding command, stdout, stderr and exit. */
  dir: string;
}

export interface CommandStatus extends CommandInfo {
  stdoutTail: string[];
  stderrTail: string[];
}

interface Running {
  info: CommandInfo;
  pid: number;
  out: FileHandle;
  err: FileHandle;
  dir: SafeDir;
  exited: Promise<void>;
  stopping?: Promise<void>;
  /** Set at the first exit/error event (both may fire); state follows once the files are written. */
  ended?: boolean;
  tails?: { stdout: string; stderr: string };
  timer?: NodeJS.Timeout;
}

export const COMMANDS_DIR = ['.corral', 'commands'];
const TAIL_BYTES = 64 * 1024;

export function lastLines(text: string, n: number): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

export interface CommandStoreOptions {
  workspace: string;
  session: string;
  killGraceMs: number;
  /** The commands' environment (host-env.ts); the scrubbed default when unset. */
  env?: NodeJS.ProcessEnv;
  /** Wraps argv to run it confined (confine.ts); unconfined when unset. */
  wrap?: (argv: string[]) => string[];
}

export class CommandStore {
  private readonly byId = new Map<string, Running>();
  private closed = false;
  constructor(private readonly opts: CommandStoreOptions) {}

  /**
   * Start `argv` (the command's words, or `/bin/sh -c command` where it needs a shell) in the
   * workspace; `command` is what is recorded and listed. Resolves once it is running.
   */
  async start(
    command: string,
    { argv = execArgv(command), timeoutMs }: { argv?: string[]; timeoutMs?: number | undefined } = {},
  ): Promise<CommandInfo> {
    // An approval answered after the bridge closed must not start a process nobody will stop.
    if (this.closed) throw new CorralError('INTERRUPTED', 'The bridge is shutting down.');
    const { workspace, session } = this.opts;
    let id = '';
    let dir: SafeDir | undefined;
    for (let attempt = 0; !dir; attempt++) {
      id = randomBytes(4).toString('hex');
      try {
        dir = await openSafeDir(workspace, [...COMMANDS_DIR, session, id], 'fresh');
      } catch (e) {
        // A taken id is retried; anything else (a planted link) is the real answer.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw e;
      }
    }
    const rel = [...COMMANDS_DIR, session, id].join('/');
    let out: FileHandle | undefined;
    let err: FileHandle | undefined;
    try {
      await writeExclusive(dir, 'command', `${command}\n`);
      out = await createExclusive(dir, 'stdout');
      err = await createExclusive(dir, 'stderr');
      if (this.closed) throw new CorralError('INTERRUPTED', 'The bridge is shutting down.');
    } catch (e) {
      await Promise.all([out?.close(), err?.close(), dir.close()]);
      if (this.closed) throw e;
      throw new CorralError('WORKSPACE_INVALID', `Could not create the output files in ${rel}.`, undefined, {
        cause: e,
      });
    }
    const full = this.opts.wrap ? this.opts.wrap(argv) : argv;
    // No shell here: argv runs as given, in an environment with none of corral's own.
    const child = spawn(full[0]!, full.slice(1), {
      cwd: workspace,
      detached: true,
      stdio: ['ignore', out.fd, err.fd],
      env: this.opts.env ?? hostCommandEnv([]),
    });
    const info: CommandInfo = { id, session, command, state: 'running', dir: rel };
    let resolveExit = () => {};
    const exited = new Promise<void>((resolve) => {
      resolveExit = resolve;
    });
    // Registered before any await, so stopAll() and the exit handler always find it.
    const run: Running = { info, pid: child.pid ?? -1, out, err, dir, exited };
    this.byId.set(id, run);
    child.once('error', () => this.finish(run, 127, resolveExit));
    child.once('exit', (code, signal) => this.finish(run, code ?? 128 + signalNumber(signal), resolveExit));
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve);
      child.once('error', resolve);
    });
    info.startedAt = new Date().toISOString();
    if (run.pid > 0 && run.info.state === 'running') {
      await recordRunning({ session, id, pid: run.pid, workspace, command, startedAt: info.startedAt }).catch(
        () => {},
      );
    }
    if (timeoutMs) {
      run.timer = setTimeout(() => void this.stop(id).catch(() => {}), timeoutMs);
      run.timer.unref();
    }
    return { ...info };
  }

  /** Resolves when the command has ended, or after `ms`, whichever comes first. */
  async wait(id: string, ms: number): Promise<void> {
    const run = this.get(id);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([run.exited, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private finish(run: Running, code: number, done: () => void): void {
    if (run.ended) {
      done();
      return;
    }
    run.ended = true;
    clearTimeout(run.timer);
    void (async () => {
      // Killed here (stop_command, the bridge closing) or from `corral commands kill`.
      const external = await forgetRunning(this.opts.session, run.info.id).catch(() => false);
      const killed = run.stopping !== undefined || external;
      run.info.state = killed ? 'killed' : 'finished';
      if (!killed) run.info.exitCode = code;
      try {
        const [stdout, stderr] = await Promise.all([
          readTail(run.out, TAIL_BYTES),
          readTail(run.err, TAIL_BYTES),
        ]);
        run.tails = { stdout, stderr };
        await writeExclusive(run.dir, 'exit', killed ? 'killed\n' : `${code}\n`).catch(() => {});
      } finally {
        await Promise.all([run.out.close(), run.err.close(), run.dir.close()]).catch(() => {});
        done();
      }
    })();
  }

  private get(id: string): Running {
    const run = this.byId.get(id);
    if (!run) {
      throw new CorralError(
        'BAD_INPUT',
        `No command ${JSON.stringify(id)} in this session.`,
        'See list_commands.',
      );
    }
    return run;
  }

  async status(id: string, lines = 10): Promise<CommandStatus> {
    const run = this.get(id);
    const tails = run.tails ?? {
      stdout: await readTail(run.out, TAIL_BYTES).catch(() => ''),
      stderr: await readTail(run.err, TAIL_BYTES).catch(() => ''),
    };
    return {
      ...run.info,
      stdoutTail: lastLines(tails.stdout, lines),
      stderrTail: lastLines(tails.stderr, lines),
    };
  }

  /** Full (bounded) output of a finished command, for inline results. */
  output(id: string): { stdout: string; stderr: string } {
    return this.get(id).tails ?? { stdout: '', stderr: '' };
  }

  /** SIGTERM to the whole process group, SIGKILL after the grace period; resolves once it has ended. */
  stop(id: string): Promise<void> {
    const run = this.get(id);
    if (run.info.state !== 'running') return Promise.resolve();
    run.stopping ??= (async () => {
      signalGroup(run.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<boolean>(
        (r) => (timer = setTimeout(() => r(true), this.opts.killGraceMs)),
      );
      const ended = await Promise.race([run.exited.then(() => false), graceOver]);
      clearTimeout(timer);
      // Children that ignore SIGTERM outlive the shell: the group is killed either way.
      signalGroup(run.pid, 'SIGKILL');
      if (ended) await run.exited;
    })();
    return run.stopping;
  }

  list(): CommandInfo[] {
    return [...this.byId.values()].map((r) => ({ ...r.info }));
  }

  /** Stop everything still running (the bridge is closing). */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all(this.list().map((c) => (c.state === 'running' ? this.stop(c.id) : undefined)));
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const signalNumber = (signal: NodeJS.Signals | null): number => (signal ? os.signals[signal] : 0);
