/**
 * A minimal JSON client for the engine API, for the calls on the start path. dockerode costs
 * ~160 ms to load (docker-modem pulls in ssh2 eagerly), which alone would blow the startup budget,
 * so it is loaded only for builds, pulls, logs, exec and listings.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import { traceApi } from '../trace.js';
import { apiOptions, type Transport } from './hijack.js';

/** Shaped like docker-modem's errors, so callers handle both the same way. */
export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: { message?: string; cause?: string } | undefined,
    path: string,
  ) {
    super(`${json?.message ?? `HTTP ${statusCode}`} (${path.split('?')[0]})`);
  }
}

export function apiRequest<T = unknown>(
  transport: Transport,
  method: string,
  path: string,
  body?: unknown,
  upload?: Readable,
): Promise<T> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = {};
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    } else if (upload) headers['Content-Type'] = 'application/x-tar';
    const req = http.request({ ...apiOptions(transport), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text ? { message: text.trim() } : undefined;
        }
        const status = res.statusCode ?? 0;
        traceApi(method, path, status, started);
        if (status >= 200 && status < 300) resolve(json as T);
        else reject(new EngineHttpError(status, json as { message?: string }, path));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (upload) upload.pipe(req);
    else req.end(payload);
  });
}

export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
