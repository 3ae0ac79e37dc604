import type { ContainerSpec } from './types.js';

/**
 * Podman 4.3's network backend (netavark 1.4) leaves its bridge's MAC address to the kernel, which
 * gives a bridge the lowest MAC of its ports: when the container holding that port goes (any
 * container on the network, corral's or not), or one with a lower MAC comes, the bridge's MAC —
 * the host's address on that network, and every container's next hop out — changes. A container
 * that knew the old one keeps sending to it: its neighbour entry stays valid 15-45 s, then probes
 * the old address by unicast, and traffic to the host and beyond is lost meanwhile (measured here:
 * 68 s, a TCP connect's SYNs unanswered; issue 14's 37-70 s runs, the gateway connecting to the
 * model server on the host). netavark fixed it in 1.9 by pinning the bridge's MAC
 * (containers/netavark#833); Docker pins docker0's.
 *
 * Corral does not touch the host's bridge. Instead its Podman containers on a bridge network (the
 * gateway above all: every request a sandbox makes goes through it) check a quiet neighbour entry
 * again after ~1 s, and ask by broadcast, not the old address: a changed MAC costs ~3 s. Traffic that flows keeps its entry confirmed (TCP's acknowledgements), so this
 * costs at most one ARP exchange when a connection opens after a quiet second.
 */

/** The network's interface in a bridge-networked container (the first network's). */
const IFACE = 'eth0';

export const NEIGHBOUR_SYSCTLS: Readonly<Record<string, string>> = {
  // Valid for 0.5-1.5 s after the last confirmation (kernel default: 15-45 s).
  [`net.ipv4.neigh.${IFACE}.base_reachable_time_ms`]: '1000',
  // Used but unconfirmed: probe after 1 s (default 5 s).
  [`net.ipv4.neigh.${IFACE}.delay_first_probe_time`]: '1',
  // Probe by broadcast, answered by whoever holds the address now (default: 3 unicasts, 1 s apart,
  // to the old MAC, which nobody answers after a change).
  [`net.ipv4.neigh.${IFACE}.ucast_solicit`]: '0',
  [`net.ipv4.neigh.${IFACE}.mcast_resolicit`]: '3',
  [`net.ipv4.neigh.${IFACE}.retrans_time_ms`]: '200',
};

/**
 * The settings for a Podman container when it can take them: rootful Podman (a rootless one's
 * containers live in the user's namespace, where the kernel shows no neighbour settings; its default
 * network has no bridge either), a bridge interface of its own (`eth0`: the default network or a
 * named one), and no user namespace of its own (same reason; and Podman connects such a container's
 * network only after the runtime has written its settings). gVisor's network stack has none. So:
 * the gateway, services, port relays; not sandboxes with a uid mapping (their way out is the
 * gateway, or `--network open`).
 */
export function neighbourSysctls(
  spec: Pick<ContainerSpec, 'network' | 'isolation' | 'idMappings' | 'keepId'>,
  rootless: boolean,
): Record<string, string> {
  if (rootless || spec.isolation === 'gvisor' || spec.idMappings || spec.keepId) return {};
  const { network } = spec;
  const own = ['none', 'host', 'private', 'slirp4netns', 'pasta', 'container', 'ns'];
  const bridged = network === undefined || !own.some((m) => network === m || network.startsWith(`${m}:`));
  return bridged ? { ...NEIGHBOUR_SYSCTLS } : {};
}
