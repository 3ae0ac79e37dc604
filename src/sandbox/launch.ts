/**
 * Starting a sandbox: make its state volume, create the container, attach, start, wait, clean up.
 * Every exit path (normal end, Ctrl-C, closed terminal, engine error) removes what this run made,
 * except the state volume once it holds a login.
 */
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { trace } from '../trace.js';
import { homeVolumeLabels, homeVolumeName, LABELS } from '../workspace/identity.js';
import { type AttachControl, connect, drained, type Stdio } from './attach.js';
import { FORWARDER_READY } from './gateway-side.js';
import { ensureMaskVolumes, ensureVolume, maskVolumeName } from './masks.js';
import { owned, reapLeftovers } from './orphans.js';
import { grantWorkspace, reclaimOwnership } from './ownership.js';
import { startPortRelay } from './port-relay.js';
import { type SandboxSpec, toContainerSpec } from './spec.js';
import { pruneSessions, type Recorder, startTranscript } from './transcript.js';
import { alignVolumeOwners } from './volume-owners.js';
import { claimWarm, placeholderEnv, removeLaunchDir } from './warm.js';

/** A container already named like this run's sandbox: refused if not corral's or running, else removed. */
async function refuseExisting(
  engine: ContainerEngine,
  spec: SandboxSpec,
  existing: Awaited<ReturnType<ContainerEngine['inspect']>>,
): Promise<void> {
  if (existing) {
    if (existing.labels[LABELS.managed] !== 'true') {
      throw new CorralError(
        'BAD_INPUT',
        `A container named ${spec.name} exists and was not made by corral.`,
        'Pick another --name.',
      );
    }
    if (existing.running) {
      throw new CorralError(
        'BAD_INPUT',
        `${spec.agent} is already running in this workspace (${spec.name}).`,
        `Attach with \`corral attach ${spec.agent}\`, stop it with \`corral stop ${spec.agent}\`, or start another with --name.`,
      );
    }
    await engine.remove(existing.id, { force: true });
  }
}

interface Prepared {
  id: string;
  /** Undo what prepare made (container, and the volume if this run created it and it stayed empty). */
  discard: () => Promise<void>;
  /** After the run: what a taken warm container leaves on the host (its launch folder). */
  done?: () => Promise<void>;
}

/**
 * A warm container the run took (sandbox/warm.ts): renamed to the run's name at once, a look at
 * the name only when it is in use (a sandbox left by an earlier run). Undefined when it no longer
 * fits: then it goes and the run starts cold.
 */
async function takeWarmContainer(engine: ContainerEngine, spec: SandboxSpec): Promise<Prepared | undefined> {
  const warm = spec.warm;
  if (!warm) return undefined;
  const done = () => removeLaunchDir(warm.launchDir);
  const discard = async () => {
    await engine.remove(warm.id, { force: true }).catch(() => undefined);
    await done();
  };
  const claim = () => claimWarm(engine, warm, toContainerSpec(spec), placeholderEnv(spec));
  let ok: boolean | undefined;
  try {
    ok = await claim().catch(() => undefined);
    if (ok === undefined) {
      await refuseExisting(engine, spec, await engine.inspect(spec.name));
      ok = await claim().catch(() => false);
    }
  } catch (e) {
    await discard();
    throw e;
  }
  if (!ok) {
    await discard();
    return undefined;
  }
  trace('warm taken');
  return { id: warm.id, discard, done };
}

async function prepare(engine: ContainerEngine, spec: SandboxSpec): Promise<Prepared> {
  // A killed corral's created/exited sandboxes in this workspace go, alongside the rest of prepare.
  const reaped = reapLeftovers(engine, spec.workspace.id);
  // Taken warm, the reap goes on in the background (it never touches a live maker's containers).
  const warm = await takeWarmContainer(engine, spec);
  if (warm) return warm;
  const volume = homeVolumeName(spec.workspace, spec.agent, spec.profile);
  // The volumes are looked at alongside the look at the name (one engine round trip less before
  // the create); a refused name leaves at most the volume a later run would make anyway.
  const volumes = (async () => {
    await ensureMaskVolumes(engine, spec.workspace, spec.masks, spec.image, spec.user);
    const created = await ensureVolume(
      engine,
      volume,
      homeVolumeLabels(spec.workspace, spec.agent, spec.profile),
    );
    const masks = spec.masks.map((d) => maskVolumeName(spec.workspace, d));
    await alignVolumeOwners(
      engine,
      spec.workspace,
      [volume, ...masks],
      spec.image,
      spec.isolation,
      spec.user,
    );
    return created;
  })();
  volumes.catch(() => {});
  await refuseExisting(engine, spec, await engine.inspect(spec.name));
  const createdVolume = await volumes;
  let id: string;
  try {
    id = await engine.createContainer(owned(toContainerSpec(spec)));
  } catch (e) {
    if (createdVolume) await engine.removeVolume(volume).catch(() => undefined);
    throw e;
  }
  await reaped;
  return {
    id,
    discard: async () => {
      await engine.remove(id, { force: true }).catch(() => undefined);
    },
  };
}

export async function startDetached(
  engine: ContainerEngine,
  spec: SandboxSpec,
  /** Awaited between create and start (the host bridge coming up meanwhile). */
  beforeStart?: Promise<void>,
  /** Called as soon as the engine has started it (a caller waiting on its exit starts here). */
  started?: (id: string) => void,
): Promise<string> {
  // Detached Docker-as-root sessions are handed back by `corral stop`.
  if (spec.user.reclaimTo) await grantWorkspace(spec.workspace.path);
  const p = await prepare(engine, spec);
  try {
    await beforeStart;
    await engine.startContainer(p.id);
    started?.(p.id);
    await startPortRelay(engine, spec);
    if (spec.network.mode === 'gateway' && spec.isolation === 'gvisor') await forwarderReady(engine, p.id);
  } catch (e) {
    await p.discard();
    throw e;
  }
  return p.id;
}

/**
 * A detached sandbox behind the gateway reaches out once its forwarder listens; an `exec` before
 * that finds nothing on 127.0.0.1:3128. Under runc the forwarder is up within ~80 ms of the start,
 * before any follow-up command arrives; under gVisor its Node takes several times that, so the
 * start waits for it (the prologue's ready file), or until the sandbox has exited.
 */
async function forwarderReady(engine: ContainerEngine, id: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const r = await engine.exec(id, ['sh', '-c', `test -s ${FORWARDER_READY}`]).catch(() => undefined);
    if (r?.exitCode === 0) return;
    if (!(await engine.inspect(id))?.running) return;
    await new Promise((res) => setTimeout(res, 50));
  }
}

export interface AttachedResult {
  exitCode: number;
  /** Set when the session ended because of a signal to corral rather than the agent exiting. */
  signal?: NodeJS.Signals;
}

/**
 * Run attached. Ctrl-C without a TTY, SIGTERM and a closed terminal (SIGHUP) stop the sandbox;
 * with a TTY, Ctrl-C is a keystroke for the agent.
 */
export async function runAttached(
  engine: ContainerEngine,
  spec: SandboxSpec,
  io: Stdio,
  opts: {
    record?: { keep: number };
    control?: (c: AttachControl) => void;
    /** Called once the sandbox has exited, before it is removed (errors are the caller's). */
    exited?: (container: string) => Promise<void>;
    /** Awaited between attach and start: what the sandbox needs up (gateway, bridge) comes up meanwhile. */
    beforeStart?: Promise<unknown>;
    /** The run's other clean-up, which does not need the sandbox: run once it has exited. */
    alongsideRemove?: () => Promise<void>;
  } = {},
): Promise<AttachedResult> {
  const startedAt = Date.now();
  const hadAcls = spec.user.reclaimTo ? await grantWorkspace(spec.workspace.path) : false;
  const p = await prepare(engine, spec);
  trace('create');
  let signal: NodeJS.Signals | undefined;
  let disconnect = () => {};
  let recorder: Recorder | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    signal ??= s;
    void engine.stop(p.id, 2).catch(() => engine.kill(p.id));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  let failed = true;
  let removeRelay = async () => {};
  let stream: Awaited<ReturnType<ContainerEngine['attach']>> | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= opts.alongsideRemove?.() ?? Promise.resolve();
    return cleaning;
  };
  try {
    stream = await engine.attach(p.id, { stdin: spec.stdin, tty: spec.tty });
    trace('attach');
    await opts.beforeStart;
    // Interrupted while the gateway came up: never start it (and, not having run, it goes).
    if (signal) return { exitCode: signalExit(signal), signal };
    await engine.startContainer(p.id);
    trace('start');
    removeRelay = await startPortRelay(engine, spec);
    // Waiting after start is safe: attached sessions never use engine auto-remove, so an early
    // exit is still there to be waited on.
    const waiting = engine.wait(p.id);
    recorder =
      opts.record && spec.tty
        ? await startTranscript(
            { id: spec.session, agent: spec.agent, workspace: spec.workspace.path, container: spec.name },
            { cols: io.stdout.columns || 80, rows: io.stdout.rows || 24 },
          )
        : undefined;
    disconnect = connect(engine, stream, io, {
      tty: spec.tty,
      stdin: spec.stdin,
      resize: (rows, cols) => engine.resize(p.id, rows, cols),
      ...(recorder ? { record: recorder.write } : {}),
      ...(opts.control ? { control: opts.control } : {}),
    });
    const exitCode = await waiting;
    trace('wait');
    // Nothing of the run's clean-up needs the sandbox any more: it goes on while the sandbox is
    // drained, read and removed (its errors are awaited below).
    cleanUp().catch(() => {});
    await drained(stream, 2000);
    disconnect();
    stream.destroy();
    await opts.exited?.(p.id);
    trace('exited');
    // A remote engine worked on a copy of the workspace: bring the agent's changes back.
    if (engine.workspaceSync) await engine.workspaceSync.pull(spec.workspace.path);
    failed = false;
    return signal ? { exitCode: signalExit(signal), signal } : { exitCode };
  } finally {
    disconnect();
    // Not always ended by the engine: a sandbox that never started keeps its attach open.
    stream?.destroy();
    await recorder?.close();
    if (recorder && opts.record) await pruneSessions(opts.record.keep);
    for (const s of signals) process.off(s, onSignal);
    await removeRelay();
    await Promise.all([spec.autoRemove || failed ? p.discard() : undefined, cleanUp(), p.done?.()]);
    trace('remove');
    if (spec.user.reclaimTo)
      await reclaimOwnership(spec.workspace.path, spec.user.reclaimTo, startedAt - 2000, hadAcls);
  }
}

export function signalExit(s: NodeJS.Signals): number {
  return 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[s]!;
}
