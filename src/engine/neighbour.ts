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
 * Corral does not touch the host's bridge. Instead its Podman containers on a bridge network check
 * a quiet neighbour entry again after ~1 s, and ask by broadcast, not the old address: a changed
 * MAC costs ~3 s. Traffic that flows keeps its entry confirmed (TCP's acknowledgements), so this
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
 * Whether a Podman container gets its own bridge interface (`eth0`): a named network, or the
 * default one when Podman runs as root (rootless Podman's default is slirp4netns or pasta, with
 * no bridge and no eth0, where writing these settings would fail the start). gVisor's own network
 * stack has no such settings.
 */
export function bridgeNetworked(
  network: string | undefined,
  rootless: boolean,
  isolation: string | undefined,
): boolean {
  if (isolation === 'gvisor') return false;
  if (network === undefined) return !rootless;
  return !['none', 'host', 'private', 'slirp4netns', 'pasta', 'container', 'ns'].some(
    (m) => network === m || network.startsWith(`${m}:`),
  );
}
