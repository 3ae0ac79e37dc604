/**
 * The host's own addresses, which the gateway refuses in every mode. The gateway runs in a
 * container and cannot list the host's interfaces, so the host lists them when it writes the
 * gateway's settings (each run, each `corral egress allow`), and the gateway adds what it can see
 * itself: its own addresses and its default routes (the engine bridge, i.e. the host).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { classifyAddress, normalizeHost } from './addresses.js';

const strip = (a: string) => normalizeHost(a.replace(/%.*$/, ''));

/**
 * Every address on every interface here: loopback, LAN, engine bridges, a public one if present.
 * Not the IPv6 link-local ones: every container started on a bridge adds one (its veth's), so the
 * list changed with each container elsewhere and a run like the last one still handed its settings
 * over; the gateway refuses all of fe80::/10 as the host instead (decide.ts).
 */
export function interfaceAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(strip(a.address));
  }
  return withoutLinkLocal([...out]);
}

/** The list without IPv6 link-local addresses (see interfaceAddresses). */
export function withoutLinkLocal(addresses: readonly string[]): string[] {
  return addresses.filter((a) => !(isIP(a) === 6 && classifyAddress(a) === 'link-local'));
}

/** The kernel's routing tables, read for their gateways (hex, little-endian for IPv4). */
export function routeGateways(ipv4Table: string, ipv6Table: string): string[] {
  const out = new Set<string>();
  for (const line of ipv4Table.split('\n').slice(1)) {
    const hex = line.trim().split(/\s+/)[2];
    if (!hex || !/^[0-9a-f]{8}$/i.test(hex) || /^0+$/.test(hex)) continue;
    const n = Number.parseInt(hex, 16);
    out.add(`${n & 255}.${(n >> 8) & 255}.${(n >> 16) & 255}.${(n >>> 24) & 255}`);
  }
  for (const line of ipv6Table.split('\n')) {
    const hex = line.trim().split(/\s+/)[4];
    if (!hex || !/^[0-9a-f]{32}$/i.test(hex) || /^0+$/.test(hex)) continue;
    const groups = hex.match(/.{4}/g)!.map((g) => Number.parseInt(g, 16).toString(16));
    const ip = groups.join(':');
    if (isIP(ip) === 6) out.add(normalizeHost(new URL(`http://[${ip}]`).hostname));
  }
  return [...out];
}

/** What the gateway itself sees of the host: its own addresses and the gateways of its routes. */
export function gatewaySideHostAddresses(): string[] {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return [
    ...new Set([
      ...interfaceAddresses(),
      ...routeGateways(read('/proc/net/route'), read('/proc/net/ipv6_route')),
    ]),
  ];
}

/** The list to hand the gateway: what it had, plus the host's addresses now (they can change). */
export function withHostAddresses(previous: readonly string[] = []): string[] {
  return [...new Set([...previous, ...interfaceAddresses()])];
}
