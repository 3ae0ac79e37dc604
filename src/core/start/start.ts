/**
 * The last part of `corral run`: start the sandbox once its gateway, services and host bridge are
 * up, detached or attached, and take those down with it.
 */
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import type { AttachControl, Stdio } from '../../sandbox/attach.js';
import { runAttached, startDetached } from '../../sandbox/launch.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput } from '../types.js';
import type { RunLoginPlan } from './auth.js';
import type { startRunBridge } from './bridge.js';

export type Bridge = Awaited<ReturnType<typeof startRunBridge>>;

/** Start the sandbox in the background; resolves to its container id. */
export async function runDetached(
  ctx: CoreContext,
  engine: ContainerEngine,
  spec: SandboxSpec,
  bridge: Bridge,
  started?: (id: string) => void,
): Promise<string> {
  let id: string;
  try {
    id = await startDetached(engine, spec, bridge.ready, started);
  } catch (e) {
    await bridge.stop();
    throw e;
  }
  await bridge.started(id).catch((e: Error) => ctx.note(`corral: ${e.message}`));
  return id;
}

/** An attached run: starts once `bridging` (gateway, services, bridge) is up; they go as the sandbox does. */
export async function runAttachedWithSidecars(
  engine: ContainerEngine,
  spec: SandboxSpec,
  config: Config,
  opts: StartSandboxInput,
  io: Stdio,
  login: RunLoginPlan | undefined,
  bridging: Promise<Bridge>,
  release: () => Promise<void>,
  /** What the start waits for (default: the bridge too); the bridge may come up after it. */
  ready: Promise<unknown> = bridging,
): Promise<number> {
  let bridge: Bridge | undefined;
  // The terminal's control reaches the bridge when both are there, in either order.
  let control: AttachControl | undefined;
  const late = bridging.then((b) => {
    bridge = b;
    if (control) b.control?.(control);
  });
  // A bridge that fails after the start stops the sandbox: the run fails as it did before.
  late.catch(() => engine.kill(spec.name).catch(() => undefined));
  const record =
    config.transcripts.enabled && opts.record !== false ? { record: { keep: config.transcripts.keep } } : {};
  let cleaned: Promise<void> | undefined;
  const cleanUp = () => {
    cleaned ??= (async () => {
      bridge ??= await bridging.catch(() => undefined);
      await Promise.all([bridge?.stop(), release()]);
    })();
    return cleaned;
  };
  try {
    const result = await runAttached(engine, spec, io, {
      ...record,
      beforeStart: ready,
      control: (c) => {
        control = c;
        bridge?.control?.(c);
      },
      ...(login ? { exited: login.afterRun } : {}),
      alongsideRemove: cleanUp,
    });
    // A bridge that failed: its error, not the exit code of the sandbox it stopped.
    await late;
    return result.exitCode;
  } finally {
    // Also when the sandbox was never made: the sidecars still come down.
    await cleanUp();
  }
}
