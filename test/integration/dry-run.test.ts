/** `--dry-run` prints engine commands that, run by hand, reproduce what corral does. */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../src/gateway/ca.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

for (const kind of TEST_ENGINES) {
  describe(`dry-run on ${kind}`, () => {
    it('prints runnable commands that reproduce the run (user, mounts, ownership, hardening)', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-dry-')));
      const env = {
        CORRAL_ENGINE: kind,
        CORRAL_CONFIG: join(ws, 'none.yaml'),
        CORRAL_DATA_DIR: join(ws, '.state'),
      };
      const probe = 'id -u > dry.txt; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status >> dry.txt';
      const r = await corral(
        // On the ordinary network: behind the gateway the printed commands also need the
        // workspace's gateway running, which the dry run names but does not start.
        [
          'shell',
          'claude',
          '--no-join',
          '--network',
          'open',
          '--dry-run',
          '-e',
          'API_TOKEN=not-printed',
          '--',
          'sh',
          '-c',
          probe,
        ],
        { cwd: ws, env },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${kind} run `);
      expect(r.stdout).not.toContain('not-printed');
      await expect(stat(join(ws, 'dry.txt'))).rejects.toThrow(); // nothing ran yet
      // Run what it printed, by hand (with the secret in the shell's environment).
      execFileSync('bash', ['-euc', r.stdout], {
        cwd: ws,
        env: { ...process.env, API_TOKEN: 'x' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const text = await readFile(join(ws, 'dry.txt'), 'utf8');
      expect(text).toMatch(/^1000\nCapEff:\s+0+\nNoNewPrivs:\s+1\n$/);
      expect((await stat(join(ws, 'dry.txt'))).uid).toBe(process.getuid!());
    });

    it('behind the gateway, also prints the gateway, the port relay and the forwarder, and starts none', async () => {
      await agentImage(await engineFor(kind), 'claude');
      const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-dry-gw-')));
      const data = join(ws, '.state');
      const env = { CORRAL_ENGINE: kind, CORRAL_CONFIG: join(ws, 'none.yaml'), CORRAL_DATA_DIR: data };
      // A host service the sandbox may reach (--allow-host), to prove the printed gateway relays.
      const host = createServer((_q, res) => res.end('host-ok'));
      await new Promise<void>((r) => host.listen(0, '0.0.0.0', r));
      const port = (host.address() as AddressInfo).port;
      const alias = kind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
      // Built at run time: key-shaped, and it must never be printed.
      const realKey = `sk-ant-api03-${randomBytes(24).toString('hex')}`;
      const probe = [
        `curl -s http://${alias}:${port}/x > dry.txt`,
        "curl -s -o /dev/null -w ' %{http_code}' http://blocked.example/ >> dry.txt",
        'echo " $ANTHROPIC_API_KEY" >> dry.txt',
      ].join('; ');
      let gateway: string | undefined;
      try {
        const r = await corral(
          [
            'shell',
            'claude',
            '--no-join',
            '--dry-run',
            '--allow-host',
            String(port),
            '--port',
            '18089',
            '-e',
            `ANTHROPIC_API_KEY=${realKey}`,
            '--',
            'sh',
            '-c',
            probe,
          ],
          { cwd: ws, env },
        );
        expect(r.code).toBe(0);
        gateway = /--name (corral-[0-9a-f]{12}-gateway) /.exec(r.stdout)?.[1];
        expect(gateway).toBeDefined();
        expect(r.stdout).toMatch(
          new RegExp(`${kind} run -d --rm --name \\S+-ports .* -p 127\\.0\\.0\\.1:18089:18089`),
        );
        expect(r.stdout).toContain('/forwarder.mjs');
        expect(r.stdout).toContain('# needs ANTHROPIC_API_KEY set in this shell');
        expect(r.stdout).not.toContain(realKey);
        // Nothing started, nothing written.
        const ps = await promisify(execFile)(kind, ['ps', '-a', '--format', '{{.Names}}']);
        expect(ps.stdout).not.toContain(gateway!);
        expect(existsSync(join(data, 'gateways'))).toBe(false);
        // Run it by hand, with the real key in the shell only; the CA is made on corral's first run.
        await loadOrCreateCa(join(data, 'ca'));
        // Asynchronously: this process serves the host service the sandbox calls meanwhile.
        await promisify(execFile)('bash', ['-euc', r.stdout], {
          cwd: ws,
          env: { ...process.env, ANTHROPIC_API_KEY: realKey },
          timeout: 120_000,
        });
        const [body, code, key] = (await readFile(join(ws, 'dry.txt'), 'utf8')).trim().split(' ');
        expect(body).toBe('host-ok');
        expect(code).toBe('403');
        // The sandbox holds the placeholder; the printed gateway holds the key.
        expect(key).toMatch(/^sk-ant-/);
        expect(key).not.toBe(realKey);
      } finally {
        host.close();
        if (gateway) await promisify(execFile)(kind, ['rm', '-f', gateway]).catch(() => {});
        await corral(['clean'], { cwd: ws, env });
      }
    });
  });
}
