/**
 * A detached start through the daemon (the web UI's and API's): apart from use-cases.ts, which is
 * the daemon's door to the core and long enough.
 */
import { type CoreContext, startSandbox } from '../core/index.js';
import { CorralError } from '../errors.js';

export interface StartInput {
  agent: string;
  mode?: 'agent' | 'shell' | undefined;
  workdir: string;
  profile?: string | undefined;
  network?: 'gateway' | 'open' | 'none' | undefined;
  prompt?: string | undefined;
  modelUrl?: string | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  yolo?: boolean | undefined;
  allow?: string[] | undefined;
  allowHost?: number[] | undefined;
  wait?: boolean | undefined;
}

/** A detached sandbox (with a TTY, for the browser terminal); with `wait`, its exit code too. */
export async function startDetached(
  ctx: CoreContext,
  input: StartInput,
): Promise<{ id: string; name: string; exitCode?: number }> {
  const engine = await ctx.engine();
  // Waited on from the moment it started: an auto-removed sandbox whose task ends before the
  // start returns would otherwise be gone when the wait is asked (a 404 for a run that worked).
  let exited: Promise<number> | undefined;
  const started = (id: string) => {
    if (!input.wait) return;
    exited = engine.wait(id);
    exited.catch(() => {});
  };
  const r = await startSandbox(
    ctx,
    {
      agent: input.agent,
      mode: input.mode ?? 'agent',
      workdir: input.workdir,
      detach: true,
      ...(input.profile ? { profile: input.profile } : {}),
      ...(input.network ? { network: input.network } : {}),
      ...(input.prompt ? { prompt: input.prompt } : {}),
      ...(input.modelUrl ? { modelUrl: input.modelUrl } : {}),
      ...(input.provider ? { provider: input.provider } : {}),
      ...(input.model ? { model: input.model } : {}),
      ...(input.yolo ? { yolo: true } : {}),
      ...(input.allow?.length ? { allow: input.allow } : {}),
      ...(input.allowHost?.length ? { allowHost: input.allowHost } : {}),
    },
    undefined,
    { started },
  );
  if (r.kind !== 'detached')
    throw new CorralError('BAD_INPUT', 'The sandbox did not start in the background.');
  const view = { id: r.id.slice(0, 12), name: r.name };
  if (!input.wait) return view;
  return { ...view, exitCode: await (exited ?? engine.wait(r.id)) };
}
