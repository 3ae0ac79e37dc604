/**
 * Issue 15, findings 4 and 6, attacked from inside a real sandbox: the host's own addresses with
 * everything open, a port-less rule used for SSH, encoded path traversal, a malformed rule, and the
 * ways out for tools that are not HTTP clients (a TCP "sshd" reached through the ssh ProxyCommand
 * helper). Upstreams are test-owned: a server on this host bound to every address, and a container
 * on the engine's ordinary network reached under fake names (egress.hosts).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

const run = promisify(execFile);

/** A web server (8080, paths logged) and a TCP echo (2222, the "sshd") in one container. */
const SITE = `require('http').createServer((q,s)=>{console.log('HIT '+q.url);s.end('site-ok')}).listen(8080);require('net').createServer(c=>{c.write('SSH-2.0-corraltest\\n');c.pipe(c)}).listen(2222)`;

/** Every address on this host's interfaces, as `ip addr` lists them. */
async function hostAddresses(): Promise<string[]> {
  const out = (await run('ip', ['-o', 'addr', 'show'])).stdout;
  return [...out.matchAll(/\sinet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!);
}

for (const kind of TEST_ENGINES) {
  describe(`the gateway against the host and other tools on ${kind}`, () => {
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let openEnv: NodeJS.ProcessEnv;
    let hostService: Server;
    let hostPort: number;
    let site: { ip: string; hits: () => Promise<string[]>; stop: () => Promise<unknown> };
    let addresses: string[];
    const name = `corral-test-gwhost-${process.pid}`;
    const sh = (script: string, extra: string[] = [], e = env) =>
      corral(['shell', 'claude', '--no-join', ...extra, '--', 'sh', '-c', script], { cwd: ws, env: e });

    beforeAll(async () => {
      const image = await agentImage(await engineFor(kind), 'claude');
      await run(kind, ['run', '-d', '--rm', '--name', name, '--user', '1000', image, 'node', '-e', SITE]);
      const ip = (await run(kind, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
      site = {
        ip,
        hits: async () =>
          (await run(kind, ['logs', name])).stdout
            .split('\n')
            .filter((l) => l.startsWith('HIT '))
            .map((l) => l.slice(4)),
        stop: () => run(kind, ['rm', '-f', name]).catch(() => {}),
      };
      // Bound to every address, IPv4 and IPv6: whichever one the gateway reached would answer.
      hostService = createServer((_q, s) => s.end('host-service-ok'));
      await new Promise<void>((r) => hostService.listen(0, '::', r));
      hostPort = (hostService.address() as AddressInfo).port;
      addresses = await hostAddresses();
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-gwhost-')));
      // Names resolving to each of the host's addresses, as a DNS record an attacker controls would.
      const names = Object.fromEntries(addresses.map((a, i) => [`h${i}.test`, a]));
      const hosts = { 'site.test': ip, 'sshd.test': ip, 'other.test': ip, ...names };
      const common = (extra: string[]) =>
        ['network: gateway', 'egress:', ...extra, `  hosts: ${JSON.stringify(hosts)}`, ''].join('\n');
      await writeFile(
        join(ws, 'config.yaml'),
        common(['  allow: ["sshd.test:2222", "GET site.test:8080/ok/"]']),
      );
      await writeFile(join(ws, 'open.yaml'), common(['  preset: open']));
      const base = {
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: join(ws, '.data'),
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      env = { ...base, CORRAL_CONFIG: join(ws, 'config.yaml') };
      openEnv = { ...base, CORRAL_CONFIG: join(ws, 'open.yaml') };
    });

    afterAll(async () => {
      await corral(['clean'], { cwd: ws, env });
      await site?.stop();
      hostService?.close();
    });

    it('refuses every address of the host, raw and by name, with everything open', async () => {
      const url = (a: string) => `http://${a.includes(':') ? `[${a}]` : a}:${hostPort}/`;
      const targets = [...addresses.map(url), ...addresses.map((_a, i) => `http://h${i}.test:${hostPort}/`)];
      const script = targets
        .map((t) => `echo "${t} $(curl -s --noproxy '' -o /dev/null -w '%{http_code}' ${t})"`)
        .join('; ');
      for (const [extra, e] of [
        [[], openEnv],
        [['--allow', '*:*'], env],
      ] as const) {
        const r = await sh(`${script}; echo; cat "$CORRAL_EGRESS_DENIED_LOG"`, [...extra], e);
        expect(r.code, r.stderr).toBe(0);
        for (const t of targets) expect(r.stdout, t).toContain(`${t} 403`);
        expect(r.stdout).not.toContain('host-service-ok');
        // Each refusal is in the sandbox's denial file, with the reason.
        expect(r.stdout).toMatch(/refused GET [^\n]*: [^\n]*is an address of the host/);
      }
      expect(addresses.some((a) => a.includes(':'))).toBe(true); // IPv6 was among them
    });

    it('refuses SSH to a host whose rule names no port, and tells why in the denial file', async () => {
      const r = await sh(
        `curl -s -o /dev/null -w '%{http_connect}\\n' -p -x http://127.0.0.1:3128 https://api.anthropic.com:22/; grep 'api.anthropic.com:22' "$CORRAL_EGRESS_DENIED_LOG"`,
      );
      expect(r.stdout).toMatch(/^403/);
      expect(r.stdout).toContain('refused CONNECT api.anthropic.com:22: no rule allows api.anthropic.com:22');
      expect(r.stdout).toContain('corral egress allow api.anthropic.com:22');
    });

    it('tunnels ssh through the gateway to an allowed host and port only', async () => {
      const r = await sh(
        `echo hello-sshd | /tmp/corral-ssh-proxy sshd.test 2222; echo "rc=$?"; echo x | /tmp/corral-ssh-proxy other.test 2222; echo "rc=$?"; echo "$GIT_SSH_COMMAND"; cat /tmp/corral-ssh-config`,
      );
      expect(r.stdout).toContain('SSH-2.0-corraltest\nhello-sshd\nrc=0');
      expect(r.stdout).toMatch(/rc=1/);
      expect(r.stderr).toContain('other.test:2222 refused (403)');
      expect(r.stdout).toContain("ssh -o ProxyCommand='/tmp/corral-ssh-proxy %h %p'");
      expect(r.stdout).toContain('ProxyCommand /tmp/corral-ssh-proxy %h %p');
    });

    it('refuses encoded traversal under a path rule instead of forwarding it', async () => {
      const paths = ['/ok/..%2fsecret', '/ok/%252e%252e/secret', '/ok/%2e%2e%2fsecret', '/ok/..%5csecret'];
      const r = await sh(
        [
          `curl -s -o /dev/null -w '%{http_code}\\n' http://site.test:8080/ok/fine`,
          ...paths.map(
            (p) => `curl -s --path-as-is -o /dev/null -w '%{http_code}\\n' 'http://site.test:8080${p}'`,
          ),
        ].join('; '),
      );
      expect(r.stdout.trim().split('\n')).toEqual(['200', ...paths.map(() => '403')]);
      expect(await site.hits()).toEqual(['/ok/fine']);
    });

    it('stops at a malformed rule with one clear message and no container left', async () => {
      const id = createHash('sha256').update(ws).digest('hex').slice(0, 12);
      const list = async () =>
        (await run(kind, ['ps', '-a', '--filter', `name=corral-${id}`, '--format', '{{.Names}}'])).stdout;
      // The gateway the tests above used may linger; nothing may be added to what is there.
      const before = await list();
      const r = await corral(['run', 'claude', '--allow', 'GET evil.com/ok; rm', '-p', 'hi'], {
        cwd: ws,
        env,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Cannot read egress rule "GET evil.com/ok; rm" (--allow)');
      expect(r.stderr).toContain('[METHOD[,METHOD] ]host[:port|:*][/path]');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await list()).toBe(before);
    });

    it('reaches a model URL on any host address without --allow-host (rewritten to the alias, that port only)', async () => {
      const lan = addresses.find((a) => !a.includes(':') && !a.startsWith('127.'))!;
      const r = await sh(
        `curl -s "$ANTHROPIC_BASE_URL/"; echo; curl -s -o /dev/null -w '%{http_code}' "\${ANTHROPIC_BASE_URL%:*}:${hostPort + 1}/"`,
        ['--model-url', `http://${lan}:${hostPort}`],
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^host-service-ok\n403$/);
    });

    it('says how to open a refused host port as a command that runs as printed, and that opens it', async () => {
      const alias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
      const probe = `curl -s http://${alias}:${hostPort}/`;
      const refused = await sh(probe);
      // The refusal names a command (`corral --allow-host N` was not one)…
      const hint = /To allow it, run: (.*)/.exec(refused.stdout)?.[1];
      expect(hint, refused.stdout).toBe(`corral egress allow ${alias}:${hostPort}`);
      // …which runs as printed, and opens that port of the host.
      const ran = await corral(hint!.split(' ').slice(1), { cwd: ws, env });
      expect(ran.code, ran.stderr).toBe(0);
      expect((await sh(probe)).stdout).toBe('host-service-ok');
      expect(
        (await sh(`curl -s -o /dev/null -w '%{http_code}' http://${alias}:${hostPort + 1}/`)).stdout,
      ).toBe('403');
      await corral(['egress', 'reset'], { cwd: ws, env });
    });
  });
}
