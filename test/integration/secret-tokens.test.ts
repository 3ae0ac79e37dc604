/**
 * Tokens kept out of the sandbox, attacked from inside a real one: a GitHub token scoped by the
 * `github:` config to one repository (reads, plus one POST), and a `--secret-env` key for another
 * host. The upstreams are test-owned TLS servers named api.github.com and api.secrets.test (a test
 * CA, `egress.hosts` pointing the names at the host). From inside, curl with the placeholder gets
 * the upstream answering as authenticated; a request outside the scope gets 403 from the gateway and
 * never reaches the upstream; the placeholder sent to another host is never swapped; and the real
 * values appear nowhere a sandbox can look.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, gatewayImage, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);
/** Split a secret so the script that searches for it never contains it whole. */
const needle = (s: string) => `-e "$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

interface Seen {
  host: string;
  method: string;
  path: string;
  auth: string;
}

/** A TLS upstream (one certificate per name) that says whether a request carried its name's token. */
async function upstream(
  certs: Record<string, { certPem: string; keyPem: string }>,
  expected: Record<string, string>,
) {
  const seen: Seen[] = [];
  const contexts = new Map(
    Object.entries(certs).map(([name, c]) => [name, createSecureContext({ cert: c.certPem, key: c.keyPem })]),
  );
  const first = Object.values(certs)[0]!;
  const server: Server = createServer(
    { cert: first.certPem, key: first.keyPem, SNICallback: (name, cb) => cb(null, contexts.get(name)) },
    (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const auth = req.headers.authorization ?? '';
      seen.push({ host, method: req.method ?? '', path: req.url ?? '', auth });
      const basic = /^Basic (.+)$/.exec(auth);
      const token = basic
        ? Buffer.from(basic[1]!, 'base64').toString().split(':')[1]
        : auth.split(' ').at(-1);
      const ok = expected[host] !== undefined && token === expected[host];
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authenticated: ok, method: req.method, path: req.url }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

for (const kind of TEST_ENGINES) {
  describe(`tokens kept out of the sandbox on ${kind}`, () => {
    const ghToken = `ghp_${randomBytes(18).toString('hex').toUpperCase()}`;
    const apiKey = `tk${randomBytes(24).toString('hex')}`;
    let up: Awaited<ReturnType<typeof upstream>>;
    let env: NodeJS.ProcessEnv;
    let ws: string;
    const outputs: string[] = [];

    beforeAll(async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      await gatewayImage(engine);
      const dir = await realpath(await mkdtemp(join(tmpdir(), 'corral-tokens-')));
      ws = join(dir, 'ws');
      await run('mkdir', ['-p', ws]);
      const ca = await loadOrCreateCa(join(dir, 'test-ca'));
      up = await upstream(
        {
          'api.github.com': await ca.issueLeaf('api.github.com'),
          'api.secrets.test': await ca.issueLeaf('api.secrets.test'),
        },
        { 'api.github.com': ghToken, 'api.secrets.test': apiKey },
      );
      await writeFile(
        join(dir, 'config.yaml'),
        [
          'network: gateway',
          'egress:',
          '  hosts: { api.github.com: host-gateway, api.secrets.test: host-gateway }',
          `  allow_host_ports: [${up.port}]`,
          `  allow: ['api.github.com:${up.port}', 'api.secrets.test:${up.port}']`,
          `  upstream_ca: ${ca.certPath}`,
          'github:',
          '  token_env: CORRAL_TEST_GITHUB',
          '  repos: [octo/allowed]',
          "  allow: ['GET *', 'POST /repos/octo/allowed/pulls']",
          '',
        ].join('\n'),
      );
      env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(dir, 'config.yaml'),
        CORRAL_DATA_DIR: join(dir, 'data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
        CORRAL_TEST_GITHUB: ghToken,
        MY_API_KEY: apiKey,
      };
    }, 300_000);

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env }).catch(() => {});
      up?.close();
    });

    it('injects the scoped GitHub token and the --secret-env key, refuses outside the scope, and leaks neither', async () => {
      const gh = `https://api.github.com:${up.port}`;
      const code = (args: string) => `curl -s -o /dev/null -w '%{http_code}\\n' ${args}`;
      const script = [
        'case "$GH_TOKEN" in ghp_corral*) echo placeholder;; *) echo not-placeholder;; esac',
        '[ "$GH_TOKEN" = "$GITHUB_TOKEN" ] && echo same',
        'case "$MY_API_KEY" in corral*) echo placeholder;; *) echo not-placeholder;; esac',
        // In scope: a read, the one POST allowed, and git-style Basic auth.
        code(`${gh}/repos/octo/allowed -H "Authorization: token $GH_TOKEN"`),
        code(`-X POST ${gh}/repos/octo/allowed/pulls -H "Authorization: Bearer $GH_TOKEN" -d '{}'`),
        code(`-u "x-access-token:$GH_TOKEN" ${gh}/repos/octo/allowed/contents/README.md`),
        // Outside it: another repository, another method, a repo-less path, a dot-segment detour.
        code(`${gh}/repos/octo/other -H "Authorization: token $GH_TOKEN"`),
        code(`-X DELETE ${gh}/repos/octo/allowed -H "Authorization: token $GH_TOKEN"`),
        code(`-X POST ${gh}/graphql -H "Authorization: token $GH_TOKEN" -d '{}'`),
        code(`--path-as-is ${gh}/repos/octo/allowed/../../octo/other -H "Authorization: token $GH_TOKEN"`),
        // The secret key on its own host, and sent to the wrong one (never swapped there).
        code(`https://api.secrets.test:${up.port}/v1/me -H "Authorization: Bearer $MY_API_KEY"`),
        code(`${gh}/repos/octo/allowed -H "Authorization: Bearer $MY_API_KEY"`),
        `curl -s ${gh}/repos/octo/allowed -H "Authorization: token $GH_TOKEN" | head -c 300; echo`,
        `curl -s ${gh}/repos/octo/other -H "Authorization: token $GH_TOKEN" | head -3`,
        `grep -rlF ${needle(ghToken)} ${needle(apiKey)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home/agent /tmp /run/corral /workspace /etc 2>/dev/null; echo scanned`,
      ].join('\n');
      const before = up.seen.length;
      const r = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--secret-env',
          'MY_API_KEY@api.secrets.test',
          '--',
          'sh',
          '-c',
          script,
        ],
        { cwd: ws, env },
      );
      outputs.push(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 3)).toEqual(['placeholder', 'same', 'placeholder']);
      expect(lines.slice(3, 13)).toEqual([
        '200',
        '200',
        '200',
        '403',
        '403',
        '403',
        '403',
        '200',
        '401',
        lines[12],
      ]);
      expect(JSON.parse(lines[12]!)).toMatchObject({ authenticated: true, path: '/repos/octo/allowed' });
      expect(lines[13]).toContain('corral egress gateway: blocked GET api.github.com');
      expect(lines[14]).toContain('scoped to octo/allowed, not octo/other');
      expect(lines.at(-1)).toBe('scanned');
      // Refused requests never reached the upstream; allowed ones arrived with the real values.
      const got = up.seen.slice(before);
      expect(got.map((s) => `${s.method} ${s.path}`)).not.toContain('GET /repos/octo/other');
      expect(got.some((s) => s.method === 'DELETE' || s.path.includes('graphql'))).toBe(false);
      expect(got.find((s) => s.path === '/repos/octo/allowed/pulls')?.auth).toBe(`Bearer ${ghToken}`);
      expect(got.find((s) => s.host === 'api.secrets.test')?.auth).toBe(`Bearer ${apiKey}`);
      // The key sent to GitHub went as the placeholder, not the real key.
      expect(got.filter((s) => s.auth.includes(apiKey)).map((s) => s.host)).toEqual(['api.secrets.test']);
      // The gateway logged the refusals as denials, without a token.
      const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
      const denied = log.stdout.split('\n').filter((l) => l.includes('"decision":"deny"'));
      expect(
        denied.some((l) => l.includes('/repos/octo/other') && l.includes('scoped to octo/allowed')),
      ).toBe(true);
      expect(denied.some((l) => l.includes('"method":"DELETE"'))).toBe(true);
      for (const text of [log.stdout, ...outputs]) {
        expect(text).not.toContain(ghToken);
        expect(text).not.toContain(apiKey);
      }
    }, 240_000);

    it('refuses --secret-env without the gateway, and a malformed github scope naming its key', async () => {
      const open = await corral(
        [
          'shell',
          'claude',
          '--no-join',
          '--network',
          'open',
          '--secret-env',
          'MY_API_KEY@api.secrets.test',
          '--',
          'true',
        ],
        { cwd: ws, env },
      );
      expect(open.code).not.toBe(0);
      expect(open.stderr).toContain('only the egress gateway can keep a secret out of the sandbox');
      const bad = join(ws, '..', 'bad.yaml');
      await writeFile(bad, "github: { repos: [nope], allow: ['fetch everything'] }\n");
      const r = await corral(['shell', 'claude', '--', 'true'], {
        cwd: ws,
        env: { ...env, CORRAL_CONFIG: bad },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('bad.yaml');
      expect(r.stderr).toContain('github.repos[0]');
      expect(r.stderr).toContain('owner/name');
      for (const text of [open.stdout, open.stderr, r.stdout, r.stderr]) expect(text).not.toContain(apiKey);
    }, 120_000);
  });
}
