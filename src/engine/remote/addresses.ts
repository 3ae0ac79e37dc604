/**
 * The remote machine's own addresses, which its gateway must refuse as the host's (the sandbox's
 * host there is that machine, not this one). Read from /proc, so nothing (iproute2) is needed there.
 */
import { isIP } from 'node:net';

/** IPv4: fib_trie's LOCAL /32 entries (every interface's address); IPv6: if_inet6's first column. */
export const LIST_ADDRESSES =
  "awk '/\\|--/{ip=$2} /\\/32 host LOCAL/{print ip}' /proc/net/fib_trie; cat /proc/net/if_inet6 2>/dev/null; true";

/** That output (IPv4 one a line, IPv6 as 32 hex digits first) as one list of normal-form addresses. */
export function machineAddresses(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const word = line.trim().split(/\s+/)[0] ?? '';
    if (isIP(word) === 4) out.add(word);
    else if (/^[0-9a-f]{32}$/i.test(word)) {
      // The URL parser writes it in the shortest form, as the gateway compares addresses.
      out.add(new URL(`http://[${word.match(/.{4}/g)!.join(':')}]`).hostname.slice(1, -1));
    }
  }
  return [...out];
}
