/**
 * A pod's life as the engine sees it: rendered at create (kept pending, since a Pod cannot exist
 * without running), created at start, watched until it runs or ends, deleted to stop. Shared by
 * the sandbox pods and the short-lived pods that reach a workspace's volume (workspace.ts).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CorralError } from '../../errors.js';
import { type Clients, ignore404 } from './client.js';
import { podState, stuckReason } from './pods.js';

const POLL_MS = 150;
/**
 * How long a pull failure is taken for a passing one when a pull secret is named. A Secret created
 * a moment before the pod may not have reached the kubelet for its first pull, which then goes
 * without it (a 401, seen once on the test cluster with the right Secret); the kubelet's retry
 * ~10 s later has it. A wrong login still fails, at its second try.
 */
const PULL_SECRET_GRACE_MS = 20_000;

export class PodLife {
  private readonly pending = new Map<string, V1Pod>();
  private readonly started = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  /** What must happen once a pod exists, before it can run (filling its copies: copies.ts). */
  private readonly afterCreate = new Map<string, () => Promise<void>>();
  /** What is settled only when the pod is created (its link to the gateway: link.ts). */
  private readonly beforeCreate = new Map<string, (pod: V1Pod) => Promise<void>>();

  constructor(
    private readonly c: Clients,
    private readonly ns: string,
    /** kubernetes.pull_secret, for the message when a pull fails. */
    private readonly pullSecret?: string,
  ) {}

  /** Known to this process (made here, perhaps not started yet). */
  has(id: string): boolean {
    return this.started.has(id);
  }

  pendingPod(id: string): V1Pod | undefined {
    return this.pending.get(id);
  }

  /** Keep the rendered pod until `start`; watchers wait for that start. */
  hold(
    name: string,
    pod: V1Pod,
    hooks: { before?: (pod: V1Pod) => Promise<void>; after?: () => Promise<void> } = {},
  ): void {
    this.pending.set(name, pod);
    if (hooks.after) this.afterCreate.set(name, hooks.after);
    if (hooks.before) this.beforeCreate.set(name, hooks.before);
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.started.set(name, { promise, resolve });
  }

  async start(id: string): Promise<void> {
    const pod = this.pending.get(id);
    if (!pod) {
      throw new CorralError(
        'ENGINE_ERROR',
        `Pod ${id} cannot be started again: Kubernetes runs a pod once.`,
        'Remove it and run again.',
      );
    }
    const before = this.beforeCreate.get(id);
    this.beforeCreate.delete(id);
    await before?.(pod);
    try {
      await this.c.core.createNamespacedPod({ namespace: this.ns, body: pod });
    } catch (e) {
      const message = (e as { body?: string }).body ?? (e as Error).message;
      throw new CorralError('ENGINE_ERROR', `The cluster refused pod ${id}: ${message}`, undefined, {
        cause: e,
      });
    }
    this.pending.delete(id);
    this.started.get(id)?.resolve();
    const after = this.afterCreate.get(id);
    this.afterCreate.delete(id);
    await after?.();
    // As with a local engine, started means running (or already done): `exec` may follow at once.
    await this.running(id);
  }

  /** Resolves once the pod's container runs (true) or has already ended (false); throws if it never will. */
  running(id: string): Promise<boolean> {
    return this.watch(id, false, (pod) => {
      const s = podState(pod);
      return s.running ? true : s.state === 'exited' ? false : undefined;
    });
  }

  /**
   * The exit code, once final: a pod being deleted is done only once it is gone or exited.
   * `pollMs`: how often to ask (a detached run's bridge process waits hours: not every 150 ms).
   */
  exitCode(id: string, pollMs = POLL_MS): Promise<number> {
    return this.watch(
      id,
      137,
      (pod) => {
        const s = podState(pod);
        return s.state === 'exited' && !pod.metadata?.deletionTimestamp ? s.exitCode : undefined;
      },
      pollMs,
    );
  }

  /**
   * Polls the pod (once its start was asked for) until `decide` answers; `gone` when there is no
   * pod; throws when the pod cannot start (image missing, unschedulable…).
   */
  private async watch<T>(
    id: string,
    gone: T,
    decide: (pod: V1Pod) => T | undefined,
    pollMs = POLL_MS,
  ): Promise<T> {
    await this.started.get(id)?.promise;
    for (;;) {
      const pod = await ignore404(() => this.c.core.readNamespacedPod({ name: id, namespace: this.ns }));
      if (!pod) return gone;
      const answer = decide(pod);
      if (answer !== undefined) return answer;
      const stuck = stuckReason(pod);
      if (stuck && /ErrImagePull|ImagePullBackOff/.test(stuck)) {
        const age = Date.now() - new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
        if (!this.pullSecret || age > PULL_SECRET_GRACE_MS) throw this.pullFailed(pod, stuck);
      } else if (stuck) throw new CorralError('ENGINE_ERROR', `Pod ${id} cannot start: ${stuck}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** The cluster could not pull the pod's image: which image, from where, with which secret. */
  private pullFailed(pod: V1Pod, reason: string): CorralError {
    const image = pod.spec?.containers[0]?.image ?? '?';
    const registry =
      image.includes('/') && /[.:]|^localhost/.test(image.split('/')[0]!) ? image.split('/')[0] : 'docker.io';
    const secret = this.pullSecret
      ? `pull secret ${this.pullSecret}`
      : 'no pull secret (kubernetes.pull_secret)';
    return new CorralError(
      'ENGINE_ERROR',
      `The cluster cannot pull ${image} from ${registry} with ${secret}: ${reason.slice(0, 400)}`,
      this.pullSecret
        ? `Check that Secret ${this.pullSecret} in namespace ${this.ns} is a kubernetes.io/dockerconfigjson login for ${registry} (kubectl create secret docker-registry).`
        : `If ${registry} needs a login, create a docker-registry Secret in namespace ${this.ns} and name it in kubernetes.pull_secret.`,
    );
  }

  /** Resolves once the pod is gone from the API (deleted), or throws after `timeoutMs`. */
  async gone(id: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await ignore404(() => this.c.core.readNamespacedPod({ name: id, namespace: this.ns }))) {
      if (Date.now() > deadline) throw new CorralError('ENGINE_ERROR', `Pod ${id} is still being removed.`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async delete(id: string, grace: number): Promise<void> {
    this.pending.delete(id);
    this.started.get(id)?.resolve();
    await ignore404(() =>
      this.c.core.deleteNamespacedPod({ name: id, namespace: this.ns, gracePeriodSeconds: grace }),
    );
  }
}
