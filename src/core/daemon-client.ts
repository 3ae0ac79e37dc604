/**
 * Talking to the daemon over its Unix socket (the CLI side). The socket is 0600 in a 0700 folder;
 * the token is sent as well, so the socket and HTTP share one auth path.
 */
import { request } from 'node:http';
import { readJson } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import type { DaemonPaths } from './daemon-paths.js';
import { readToken } from './daemon-token.js';

declare const __CORRAL_BUILD__: string | undefined;
/** This build's identity: the bundle's source hash, or 'dev' when run from source (tests). */
export const BUILD_ID: string = typeof __CORRAL_BUILD__ === 'string' ? __CORRAL_BUILD__ : 'dev';

/** What a running daemon writes about itself (0600), read by `daemon status` and the CLI. */
export interface DaemonState {
  pid: number;
  version: string;
  build: string;
  socket: string;
  url?: string;
  tokenFile: string;
  started: string;
}

export async function readDaemonState(paths: DaemonPaths): Promise<DaemonState | undefined> {
  const s = await readJson<DaemonState>(paths.stateFile);
  return typeof s.pid === 'number' && typeof s.socket === 'string' ? (s as DaemonState) : undefined;
}

export interface DaemonResponse {
  status: number;
  body: unknown;
}

/** One request to the daemon; connection failures reject with the socket error (ENOENT, ECONNREFUSED…). */
export async function daemonRequest(
  paths: DaemonPaths,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<DaemonResponse> {
  const token = await readToken(paths.tokenFile);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: paths.socket,
        method,
        path,
        timeout: timeoutMs,
        headers: {
          host: 'corral',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`the daemon did not answer ${method} ${path} in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The body of a successful answer, or the daemon's own error as a CorralError. */
export async function daemonCall<T>(
  paths: DaemonPaths,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await daemonRequest(paths, method, path, body);
  if (res.status >= 200 && res.status < 300) return res.body as T;
  const err = (res.body as { error?: { code?: string; message?: string; hint?: string } })?.error;
  throw new CorralError(
    (err?.code as never) ?? 'DAEMON_FAILED',
    err?.message ?? `The daemon answered ${method} ${path} with HTTP ${res.status}.`,
    err?.hint,
  );
}
