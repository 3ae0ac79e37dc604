/**
 * The editor speaks of host paths (the session's `cwd`, files it reads and writes for the agent);
 * the agent in the sandbox sees the workspace at /workspace. Every JSON string that is such a path
 * (or a file:// URI of one) is rewritten on its way through, in both directions.
 */

export interface PathMap {
  host: string;
  sandbox: string;
}

function swap(s: string, from: string, to: string): string | undefined {
  if (s === from) return to;
  if (s.startsWith(`${from}/`)) return to + s.slice(from.length);
  if (s.startsWith(`file://${from}`)) {
    const rest = s.slice(`file://${from}`.length);
    if (rest === '' || rest.startsWith('/')) return `file://${to}${rest}`;
  }
  return undefined;
}

/** A copy of `value` with every path under `from` moved under `to`. */
export function mapPaths(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return swap(value, from, to) ?? value;
  if (Array.isArray(value)) return value.map((v) => mapPaths(v, from, to));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapPaths(v, from, to)]));
  }
  return value;
}

export const toSandbox = (value: unknown, m: PathMap): unknown => mapPaths(value, m.host, m.sandbox);
export const toHost = (value: unknown, m: PathMap): unknown => mapPaths(value, m.sandbox, m.host);
