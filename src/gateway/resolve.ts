/**
 * Name resolution for the gateway. The gateway resolves names itself (the sandbox has no DNS for
 * outside names), checks every address, and then connects to the address it checked, so a second
 * lookup can never swap in a different one (DNS rebinding). A short cache keeps repeat requests off
 * getaddrinfo's thread pool; the check runs on every request regardless.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type Resolve = (host: string) => Promise<string[]>;

export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function cachingResolver(resolve: Resolve, ttlMs: number): Resolve {
  if (ttlMs <= 0) return resolve;
  const cache = new Map<string, { until: number; addresses: Promise<string[]> }>();
  return (host) => {
    if (isIP(host)) return Promise.resolve([host]);
    const now = Date.now();
    const hit = cache.get(host);
    if (hit && hit.until > now) return hit.addresses;
    if (cache.size > 4096) cache.clear(); // bounded without bookkeeping; refills in one lookup each
    const addresses = resolve(host);
    cache.set(host, { until: now + ttlMs, addresses });
    addresses.catch(() => cache.delete(host));
    return addresses;
  };
}
