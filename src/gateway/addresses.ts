/**
 * Which addresses the gateway refuses unless a rule names them. The sandbox's only way out is this
 * proxy, so anything it can reach on the gateway's side (cloud metadata, the host, other workspaces'
 * bridges, the gateway's own loopback) must be closed by default, whatever the allow rules say.
 */
import { BlockList, isIP } from 'node:net';

export type AddressClass = 'public' | 'metadata' | 'loopback' | 'link-local' | 'private' | 'reserved';

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  return b;
}

// Metadata services answer on link-local addresses; the whole /16 is treated as metadata because
// providers differ (AWS, GCP, Azure 169.254.169.254, Alibaba 100.100.100.200 is covered as private).
const METADATA = list([
  ['169.254.0.0', 16, 'ipv4'],
  ['fd00:ec2::254', 128, 'ipv6'],
]);
const LOOPBACK = list([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const LINK_LOCAL = list([['fe80::', 10, 'ipv6']]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT; cloud providers use it internally
  ['fc00::', 7, 'ipv6'],
]);
// Addresses no public service lives on; connecting to them is either pointless or a trick
// (0.0.0.0 reaches the local host on Linux).
const RESERVED = list([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/** The IPv4 address an IPv6 address embeds (mapped ::ffff:a.b.c.d or NAT64 64:ff9b::/96), if any. */
export function embeddedV4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:0:)?(.+)$/i.exec(ip);
  if (!m) return undefined;
  const tail = m[1]!;
  if (isIP(tail) === 4) return tail;
  // Hex form, e.g. ::ffff:7f00:1
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return undefined;
  const hi = Number.parseInt(hex[1]!, 16);
  const lo = Number.parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 0) throw new TypeError(`not an IP address: ${ip}`);
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.check(ip, type)) return 'metadata';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (LINK_LOCAL.check(ip, type)) return 'link-local';
  if (PRIVATE.check(ip, type)) return 'private';
  if (RESERVED.check(ip, type)) return 'reserved';
  return 'public';
}

/** Lower-case, no trailing dot, IPv6 without brackets: the one form rules and requests are compared in. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/** host:port for messages and the CONNECT authority, bracketing IPv6. */
export function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
