/** Which headers cross the gateway: hop-by-hop ones stay behind, body framing survives. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) plus the proxy's own: they describe the client's connection
// to the gateway, not the request, and proxy credentials must never travel upstream.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionTokens(v: string | string[] | undefined): Set<string> {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return new Set(
    s
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

export function requestHeaders(
  req: IncomingMessage,
  upgrade: boolean,
): Record<string, string | string[] | undefined> {
  const listed = connectionTokens(req.headers.connection);
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(req.headers as IncomingHttpHeaders)) {
    if (HOP_BY_HOP.has(k) || listed.has(k)) continue;
    out[k] = v;
  }
  // Transfer-Encoding is hop-by-hop but says how the body is framed. Dropped, Node would send a
  // chunked GET body unframed and the upstream would read it as a second request (smuggling
  // around method and path rules); kept, Node re-chunks what it decoded.
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && !upgrade) out['transfer-encoding'] = te;
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = req.headers.upgrade;
  }
  return out;
}

/** Response headers as a flat raw list (keeps case and repeated Set-Cookie), hop-by-hop removed. */
export function responseHeaders(res: IncomingMessage, keepUpgrade = false): string[] {
  const listed = connectionTokens(res.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const k = res.rawHeaders[i]!;
    const lk = k.toLowerCase();
    if (keepUpgrade && (lk === 'connection' || lk === 'upgrade')) out.push(k, res.rawHeaders[i + 1]!);
    else if (!HOP_BY_HOP.has(lk) && !listed.has(lk)) out.push(k, res.rawHeaders[i + 1]!);
  }
  return out;
}
