/**
 * The web UI's files from dist/web (built by Vite). Paths are resolved inside that folder only;
 * anything that is not a file there gets index.html (the app routes by hash). The CSP lets the
 * page load only its own scripts and talk only to this daemon.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';

const ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

const HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

async function fileIn(path: string): Promise<string | undefined> {
  const full = normalize(join(ROOT, decodeURIComponent(path)));
  if (!full.startsWith(ROOT) && `${full}${sep}` !== ROOT) return undefined;
  const s = await stat(full).catch(() => undefined);
  return s?.isFile() ? full : undefined;
}

export function serveWeb(app: OpenAPIHono): void {
  app.get('*', async (c) => {
    if (c.req.path.startsWith('/api/')) return c.notFound();
    let file: string | undefined;
    try {
      file = await fileIn(c.req.path);
    } catch {
      file = undefined;
    }
    file ??= await fileIn('index.html');
    if (!file)
      return c.text("The web UI is not built: run `npm run build` in corral's folder.", 503, HEADERS);
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return c.body(await readFile(file), 200, { ...HEADERS, 'content-type': type, 'cache-control': cache });
  });
}
