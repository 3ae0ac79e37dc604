/**
 * A pod from its render to running: held until its start (a Pod cannot exist without running),
 * with what its copies and its link need around the create (copies.ts, link.ts), and run again
 * when its container has ended, since Kubernetes runs a pod once (a gateway that died, restarted
 * by gateway/watch.ts). A serving pod run again has a new address: its linked pods follow it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerSpec } from '../types.js';
import { type Clients, ignore404 } from './client.js';
import { bindsOf, fillPod } from './copies.js';
import { linkTarget } from './host-folders.js';
import type { PodLife } from './lifecycle.js';
import { addLink, ensureLinkPolicies, followOwner, LINK_OWNER_LABEL, retargetLinks } from './link.js';
import { podState, rerunnable } from './pods.js';

export class PodStarts {
  constructor(
    private readonly c: Clients,
    private readonly ns: string,
    private readonly life: PodLife,
    /** The engine's removal (a serving pod's files come back first). */
    private readonly deletePod: (id: string, grace: number) => Promise<void>,
  ) {}

  /** Keep a rendered pod until its start. `spec`: what its link is worked out from (a new sandbox). */
  hold(name: string, pod: V1Pod, spec?: ContainerSpec): void {
    const binds = bindsOf(pod);
    const serving = Boolean(pod.metadata?.labels?.[LINK_OWNER_LABEL]);
    if (!Object.keys(binds).length) {
      this.life.hold(name, pod);
      return;
    }
    this.life.hold(name, pod, {
      before: async (p) => {
        const link = serving || !spec ? undefined : await linkTarget(this.c, this.ns, spec);
        if (link) addLink(p, link);
      },
      after: async () => {
        if (serving) await ensureLinkPolicies(this.c, this.ns, name);
        await fillPod(this.c, this.ns, name, binds);
      },
    });
  }

  /** Start a held pod, or run again one that ended; a pod that runs (or starts) already is left be. */
  async start(id: string): Promise<void> {
    if (!this.life.pendingPod(id) && !(await this.again(id))) return;
    // The same object the start gives its link to (before it is created).
    const pod = this.life.pendingPod(id);
    await this.life.start(id);
    if (!pod) return;
    if (pod.metadata?.labels?.[LINK_OWNER_LABEL]) await retargetLinks(this.c, this.ns, id);
    else await followOwner(this.c, this.ns, pod);
  }

  /** Hold again, as a new pod of the same name and spec, a pod whose container ended. */
  private async again(id: string): Promise<boolean> {
    const old = await ignore404(() => this.c.core.readNamespacedPod({ name: id, namespace: this.ns }));
    if (!old) return true; // nothing to run again: the start says so
    if (podState(old).state !== 'exited') return false;
    await this.deletePod(id, 0);
    await this.life.gone(id);
    this.hold(id, rerunnable(old));
    return true;
  }
}
