/** What the engine-restart fault cases share: an upstream, the run's bridge process and its logs. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const until = async (what: () => Promise<boolean> | boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (await what()) return true;
  return false;
};

/** A test-owned upstream on this host, reached by the sandboxes as the host alias (--allow-host). */
export async function upstreamServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_q, s) => s.end('upstream-ok'));
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The pid of the detached run's bridge process (the one whose corral data folder is dataDir). */
export async function bridgePidOf(dataDir: string): Promise<number | undefined> {
  const pids = (await run('pgrep', ['-f', 'corral.js bridge serve']).catch(() => ({ stdout: '' }))).stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  return pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`CORRAL_DATA_DIR=${dataDir}\0`);
    } catch {
      return false;
    }
  });
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function bridgeLogs(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'bridges');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.log'));
  return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
}

/** The detached run every case starts: Claude Code idling as an MCP server, so it has its bridge. */
export const detachedRun = (name: string, port: number) => [
  'run',
  'claude',
  '-d',
  '--name',
  name,
  '--allow-host',
  String(port),
  '--',
  '--strict-mcp-config',
  'mcp',
  'serve',
];
export const fetchCmd = (alias: string, port: number) => [
  'sh',
  '-c',
  `curl -s -m 20 -w ' %{http_code}' http://${alias}:${port}/`,
];
export const ENGINE_GONE =
  /^corral: .*(not reachable|unreachable|not running|cannot connect|no container engine answered)/im;
export const STACK = /unexpected error|\n\s+at /;
