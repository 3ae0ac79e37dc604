/** A real `corral daemon` for a test: its own folder, engine and HTTP port; stopped after. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { corral } from './cli.js';

export interface TestDaemon {
  dir: string;
  url: string;
  token: string;
  env: NodeJS.ProcessEnv;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  ws(path: string, headers?: Record<string, string>): WebSocket;
  stop(): Promise<void>;
}

export async function startTestDaemon(env: NodeJS.ProcessEnv = {}): Promise<TestDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-daemon-'));
  const denv = { ...env, CORRAL_DAEMON_DIR: dir };
  const r = await corral(['daemon', 'start', '--listen', '127.0.0.1:0', '--json'], { env: denv });
  if (r.code !== 0) throw new Error(`daemon start failed: ${r.stderr}`);
  const status = JSON.parse(r.stdout) as { url: string; tokenFile: string };
  const token = (await readFile(status.tokenFile, 'utf8')).trim();
  return {
    dir,
    url: status.url,
    token,
    env: denv,
    async api(method, path, body) {
      const res = await fetch(`${status.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed as never };
    },
    ws(path, headers = { authorization: `Bearer ${token}` }) {
      return new WebSocket(`${status.url.replace(/^http/, 'ws')}${path}`, { headers });
    },
    async stop() {
      await corral(['daemon', 'stop'], { env: denv });
    },
  };
}

/** Collects a WebSocket's JSON messages; `until` waits for one matching. */
export function messages<T = { id: number; type: string; data: Record<string, unknown> }>(ws: WebSocket) {
  const got: T[] = [];
  const waiters: { pred: (m: T) => boolean; resolve: (m: T) => void }[] = [];
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as T;
    got.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    got,
    until(pred: (m: T) => boolean, ms = 30_000): Promise<T> {
      const hit = got.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(got)}`)),
          ms,
        );
        waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
  };
}

export const opened = (ws: WebSocket) =>
  new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
