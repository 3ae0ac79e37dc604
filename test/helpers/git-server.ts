/**
 * A git remote on loopback standing in for GitHub: bare repositories served over git's dumb HTTP
 * protocol (static files after `git update-server-info`), and the REST endpoint of an issue
 * (`/api/v3/repos/<owner>/<repo>/issues/<n>`, as GitHub Enterprise serves it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';

export interface GitServer {
  url: string;
  /** Bare repositories by path, e.g. `o/r.git`. */
  root: string;
  issues: Map<string, { title: string; body: string }>;
  close(): Promise<void>;
}

export const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });

/** A work repository with one commit (README.md), and its identity set. */
export async function initRepo(dir: string, readme = 'hello\n'): Promise<string> {
  sh(dir, 'init', '-q', '-b', 'main');
  sh(dir, 'config', 'user.email', 'test@example.com');
  sh(dir, 'config', 'user.name', 'test');
  await writeFile(join(dir, 'README.md'), readme);
  sh(dir, 'add', '.');
  sh(dir, 'commit', '-qm', 'init');
  return dir;
}

export async function startGitServer(): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), 'corral-git-remote-'));
  const issues = new Map<string, { title: string; body: string }>();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const issue = /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)$/.exec(path);
    if (issue) {
      const found = issues.get(`${issue[1]}#${issue[2]}`);
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ?? { message: 'Not Found' }));
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const data = await readFile(file);
      res.writeHead(200).end(data);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    root,
    issues,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Publish `work` as the bare repository `<root>/<name>` (e.g. `o/r.git`). */
export function publish(server: GitServer, work: string, name: string): void {
  const bare = join(server.root, name);
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  sh(bare, 'update-server-info');
}
