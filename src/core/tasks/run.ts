/**
 * A task's runner (`corral task _run ID`, started in the background by createTask): the headless
 * start through the same core path as `corral run -p`, its output appended to the task's log, and
 * the outcome (exit code, diff stat, the agent's session id) written back to the record.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { findSessionId, resolveAgent } from '../../agents/index.js';
import { isCorralError } from '../../errors.js';
import { workingDiff } from '../../git/run.js';
import { CoreContext } from '../context.js';
import type { Stdio } from '../events.js';
import { startSandbox } from '../start/launch.js';
import { recordAgentSession } from '../start/work.js';
import type { TaskOptions } from './create.js';
import { withStore } from './records.js';

export async function runTask(parent: CoreContext, id: string): Promise<number> {
  const task = await withStore(parent, (s) => s.get(id));
  if (!task) return 1;
  const log = createWriteStream(task.logFile, { flags: 'a', mode: 0o600 });
  const line = (text: string) => log.write(`${text}\n`);
  // Notes, build progress and scan results go to the task's log; nobody is there to answer questions.
  const ctx = new CoreContext({
    ...parent.options,
    cwd: task.workspace,
    events: {
      note: line,
      progress: () => ({
        step: (label: string) => line(`build: ${label}`),
        line: () => {},
        done: (summary?: string) => summary && line(`build: ${summary}`),
        fail: () => line('build failed'),
        tail: () => [],
      }),
    },
  });
  await withStore(ctx, (s) =>
    s.update(id, { state: 'running', started: new Date().toISOString(), pid: process.pid }),
  );
  const stdio: Stdio = { stdin: Readable.from([]), stdout: log, stderr: log };
  const { base, ...options } = JSON.parse(task.options) as TaskOptions;
  let exitCode: number | null = null;
  let error: string | null = null;
  let agentSession: string | undefined;
  try {
    const r = await startSandbox(
      ctx,
      {
        yolo: true,
        ...options,
        agent: task.agent,
        mode: 'agent',
        workdir: task.workspace,
        prompt: task.prompt,
        name: task.container,
      },
      stdio,
    );
    exitCode = r.exitCode;
    if (r.kind === 'exited') agentSession = r.agentSession;
  } catch (e) {
    error = isCorralError(e)
      ? `${e.message}${e.hint ? ` (${e.hint})` : ''}`
      : String((e as Error).message ?? e);
    line(`corral: ${error}`);
  }
  await new Promise<void>((r) => log.end(r));
  const output = await readFile(task.logFile, 'utf8').catch(() => '');
  agentSession ??= findSessionId(resolveAgent(task.agent), output);
  const diffStat = base
    ? await workingDiff(task.workspace, base, { stat: true, env: ctx.env }).catch(() => null)
    : null;
  const finished = await withStore(ctx, (s) => {
    const now = s.get(id);
    const cancelled = now?.state === 'cancelled';
    const state = cancelled ? 'cancelled' : exitCode === 0 ? 'succeeded' : 'failed';
    s.update(id, {
      state,
      exitCode,
      ended: now?.ended && cancelled ? now.ended : new Date().toISOString(),
      diffStat: diffStat?.trimEnd() || null,
      sessionId: agentSession ?? null,
      error,
    });
    return state;
  });
  if (agentSession) {
    await recordAgentSession(ctx, {
      agent: task.agent,
      sessionId: agentSession,
      workspace: task.workspace,
      profile: task.profile,
      kind: 'task',
      title: task.prompt.slice(0, 100),
    });
  }
  return finished === 'succeeded' ? 0 : 1;
}
