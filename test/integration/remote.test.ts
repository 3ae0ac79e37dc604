/**
 * Remote engines: corral on this machine drives rootless Podman on a second "machine" (an sshd in
 * its own network namespace, test/helpers/remote-host.ts) over SSH. The workspace is uploaded, the
 * sandbox's changes come back, changes on both sides are refused, host keys are checked, and
 * nothing listens on a TCP port here. Needs root (netns, test user) and Podman.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import {
  ensureRemoteHost,
  onRemote,
  REMOTE_ADDR,
  REMOTE_PORT,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote engine: ${skip}`);

describe.skipIf(Boolean(skip))(
  'a remote engine over SSH (rootless Podman, or Docker, on another machine)',
  () => {
    let ws: string;
    let data: string;
    let sshDir: string;
    let sshDir2: string;
    const env = () => ({ CORRAL_SSH_CONFIG: SSH_CONFIG, CORRAL_DATA_DIR: data, CORRAL_SSH_DIR: sshDir });
    /** `--remote podman|docker` (added in beforeAll), or the URL itself when no kind is asked for. */
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      const kind = extra.CORRAL_REMOTE_ENGINE_KIND;
      const target = kind ? ['--remote', `box-${kind}`] : ['--engine', REMOTE_URL];
      return corral([...target, ...args], { cwd: ws, env: { ...env(), ...extra } });
    };

    beforeAll(async () => {
      await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
      // Built here by the local engine of the same kind; corral copies it over on first use.
      for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
      ws = await mkdtemp(join(tmpdir(), 'corral-remote-ws-'));
      data = await mkdtemp(join(tmpdir(), 'corral-remote-data-'));
      sshDir = await mkdtemp(join(tmpdir(), 'corral-remote-ssh-'));
      // The engine used in-process below keeps its sync state with the CLI's.
      process.env.CORRAL_DATA_DIR = data;
      for (const kind of TEST_ENGINES) {
        const added = await corral(['remote', 'add', `box-${kind}`, REMOTE_URL, '--engine', kind], {
          env: env(),
        });
        expect(added.code).toBe(0);
      }
      await writeFile(join(ws, 'README.md'), 'local\n');
    }, 900_000);

    afterAll(async () => {
      // The workspace's sandboxes, gateway and volumes on each remote engine.
      for (const kind of ws ? TEST_ENGINES : []) await run(['clean'], { CORRAL_REMOTE_ENGINE_KIND: kind });
      // Only what these tests made: their master connections (by control socket) and folders.
      for (const dir of [sshDir, sshDir2]) {
        for (const f of dir ? readdirSync(dir).filter((n) => n.startsWith('cm-')) : []) {
          execSync(`ssh -o ControlPath=${join(dir, f)} -O exit ${REMOTE_ADDR} 2>/dev/null || true`);
        }
      }
      for (const d of [ws, data, sshDir, sshDir2]) if (d) await rm(d, { recursive: true, force: true });
      // The copies there (their base went with the data folder above).
      if (!skip) onRemote('rm -rf ~/.cache/corral-remote 2>/dev/null; true');
    });

    // The remote user's rootless Podman; and Docker there, reached through its socket (the user is
    // in the docker group: this machine's dockerd, as another machine's would be).
    it.each(TEST_ENGINES)(
      "on %s there: a command in a sandbox writes a file that comes back to this machine's workspace",
      async (kind) => {
        const file = `out-${kind}.txt`;
        const made = `made-remotely-${process.pid}`;
        const r = await run(
          [
            'shell',
            'claude',
            '--network',
            'none',
            '--',
            'sh',
            '-c',
            `id -u; cat README.md; echo ${made} > ${file}`,
          ],
          { CORRAL_REMOTE_ENGINE_KIND: kind },
        );
        expect(r.code, r.stderr.slice(-3000)).toBe(0);
        expect(r.stdout).toContain('1000');
        expect(r.stdout).toContain('local'); // the workspace was uploaded
        expect(await readFile(join(ws, file), 'utf8')).toBe(`${made}\n`);
        // Brought back as this user's file, not the remote user's uid.
        expect((await stat(join(ws, file))).uid).toBe(process.getuid?.());
        // It ran on the other machine's engine: the file was made in the copy there first.
        expect(onRemote(`cat ~/.cache/corral-remote/*/m/*/${file}`)).toContain(`${made}\n`);
      },
    );

    it.each(TEST_ENGINES)(
      'on %s there: the egress gateway runs there and denies a host not allowed',
      async (kind) => {
        const r = await run(
          [
            'shell',
            'claude',
            '--',
            'sh',
            '-c',
            'curl -s -o /dev/null -w "%{http_code}\\n" http://unlisted.test/',
          ],
          { CORRAL_REMOTE_ENGINE_KIND: kind },
        );
        expect(r.code, r.stderr.slice(-3000)).toBe(0);
        expect(r.stdout.trim()).toBe('403');
        // Its audit log is written there, in the copy of its folder (not on this machine).
        expect(
          onRemote('cat ~/.cache/corral-remote/*/m/*/audit*.jsonl 2>/dev/null | grep -c unlisted.test'),
        ).not.toBe('0\n');
      },
    );

    // The host bridge's transport: a socket served here (as the bridge's is) appears in the copy of
    // the gateway folder there through an SSH reverse forward, and a sandbox reaches it.
    it.each(TEST_ENGINES)(
      'on %s there: a socket served here answers a sandbox there (the bridge path)',
      async (kind) => {
        const engine = await connectEngine(
          REMOTE_URL,
          { env: { ...process.env, ...env() }, uid: 0, which: () => true },
          {
            remoteKind: kind,
          },
        );
        const dir = await mkdtemp(join(tmpdir(), 'corral-remote-bridge-'));
        // As the gateway folder is (0755): Docker's sandbox is uid 1000, not the remote user.
        await chmod(dir, 0o755);
        const sock = join(dir, 'bridge-test.sock');
        const server = createServer((_req, res) => res.end(`answered on ${hostname()} pid ${process.pid}`));
        await new Promise<void>((r) => server.listen(sock, r));
        const stop = await engine.hostFolders!.serveSocket(sock);
        try {
          const image = await agentImage(await engineFor(kind), 'claude');
          const id = await engine.createContainer({
            name: `corral-remote-bridge-test-${kind}-${process.pid}`,
            image,
            cmd: ['curl', '-s', '--unix-socket', '/b/bridge-test.sock', 'http://bridge/'],
            env: {},
            labels: {},
            user: '1000:1000',
            workdir: '/',
            tty: false,
            openStdin: false,
            mounts: [{ type: 'bind', source: dir, target: '/b', readOnly: true }],
            capDrop: ['ALL'],
            noNewPrivileges: true,
            network: 'none',
            ...(kind === 'podman' ? { keepId: { uid: 1000, gid: 1000 } } : {}),
          });
          const out = new PassThrough();
          const chunks: Buffer[] = [];
          out.on('data', (c: Buffer) => chunks.push(c));
          const stream = await engine.attach(id, { stdin: false, tty: false });
          engine.demux(stream, out, out);
          try {
            await engine.startContainer(id);
            expect(await engine.wait(id)).toBe(0);
            await new Promise((r) => setTimeout(r, 200));
          } finally {
            await engine.remove(id, { force: true });
          }
          expect(Buffer.concat(chunks).toString()).toBe(`answered on ${hostname()} pid ${process.pid}`);
        } finally {
          await stop();
          server.close();
          await rm(dir, { recursive: true, force: true });
        }
        // And nothing listens on a TCP port for it, here or there.
        expect(execSync('ss -Hltnp | grep -w ssh || true').toString()).toBe('');
      },
    );

    it('refuses a pull when a file changed on both sides since the upload, and copies nothing', async () => {
      const remoteWs = (
        await run([
          'shell',
          'claude',
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          'echo sandbox > both.txt; echo one > only-remote.txt',
        ])
      ).code;
      expect(remoteWs).toBe(0);
      // Now both sides change both.txt: the sandbox (exec on a new run, detached? no: a second run) and here.
      const r1 = await run([
        'shell',
        'claude',
        '--network',
        'none',
        '--',
        'sh',
        '-c',
        'echo sandbox-2 > both.txt',
      ]);
      expect(r1.code).toBe(0);
      expect(await readFile(join(ws, 'both.txt'), 'utf8')).toBe('sandbox-2\n');
      // Change it here, and behind corral's back on the remote copy too.
      await writeFile(join(ws, 'both.txt'), 'here\n');
      onRemote(
        'for c in ~/.cache/corral-remote/*/m/*; do [ -f "$c/both.txt" ] && echo there > "$c/both.txt" && echo new > "$c/new-remote.txt"; done; true',
      );
      const pull = await corral(['--engine', REMOTE_URL, 'pull', '--json'], { cwd: ws, env: env() });
      expect(pull.code).not.toBe(0);
      expect(JSON.parse(pull.stdout)).toMatchObject({ error: { code: 'MERGE_CONFLICT' } });
      expect(pull.stdout).toContain('both.txt');
      expect(await readFile(join(ws, 'both.txt'), 'utf8')).toBe('here\n');
      expect(existsSync(join(ws, 'new-remote.txt'))).toBe(false);
      // Settled here (the remote version taken by hand): the rest comes back.
      await writeFile(join(ws, 'both.txt'), 'there\n');
      const again = await corral(['--engine', REMOTE_URL, 'pull', '--json'], { cwd: ws, env: env() });
      expect(again.code).toBe(0);
      expect(await readFile(join(ws, 'new-remote.txt'), 'utf8')).toBe('new\n');
    });

    it('refuses a host whose key is not the one in known_hosts, saying so', async () => {
      const bad = join(sshDir, 'bad');
      execSync(`mkdir -p ${bad} && ssh-keygen -q -t ed25519 -N '' -f ${bad}/other`);
      const key = (await readFile(`${bad}/other.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
      await writeFile(`${bad}/known_hosts`, `[${REMOTE_ADDR}]:${REMOTE_PORT} ${key}\n`);
      const cfg = (await readFile(SSH_CONFIG, 'utf8')).replace(
        /UserKnownHostsFile .*/,
        `UserKnownHostsFile ${bad}/known_hosts`,
      );
      await writeFile(`${bad}/ssh_config`, cfg);
      await writeFile(`${bad}/empty_known_hosts`, '');
      const unknownCfg = cfg.replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${bad}/empty_known_hosts`);
      await writeFile(`${bad}/ssh_config_unknown`, unknownCfg);
      // A fresh control folder: the tests' live master must not be reused.
      sshDir2 = await mkdtemp(join(tmpdir(), 'corral-remote-ssh2-'));
      const fresh = { CORRAL_SSH_DIR: sshDir2 };
      const wrong = await run(['list', '--json'], { CORRAL_SSH_CONFIG: `${bad}/ssh_config`, ...fresh });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stdout + wrong.stderr).toMatch(/does not match the one in your known_hosts/);
      const unknown = await run(['list', '--json'], {
        CORRAL_SSH_CONFIG: `${bad}/ssh_config_unknown`,
        ...fresh,
      });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stdout + unknown.stderr).toMatch(/not in your known_hosts/);
      // And nothing was added to it behind the user's back.
      expect(await readFile(`${bad}/empty_known_hosts`, 'utf8')).toBe('');
    });

    it('listens on no TCP port here: the engine socket is a unix socket in a private folder', async () => {
      const r = await run(['list', '--json']);
      expect(r.code).toBe(0);
      const tcp = execSync('ss -Hltnp | grep -w ssh || true').toString();
      expect(tcp).toBe('');
      const socks = execSync(`ls -la ${sshDir}`).toString();
      expect(socks).toMatch(/^s.* e-[0-9a-f]+-[0-9a-f]+\.sock$/m);
      expect(execSync(`stat -c %a ${sshDir}`).toString().trim()).toBe('700');
    });

    it('names remotes: add, list and rm (--json), and --remote uses one', async () => {
      const add = await corral(['remote', 'add', 'box', REMOTE_URL, '--engine', 'podman', '--json'], {
        env: env(),
      });
      expect(add.code).toBe(0);
      const list = await corral(['remote', 'list', '--json'], { env: env() });
      expect(JSON.parse(list.stdout)).toContainEqual({ name: 'box', url: REMOTE_URL, engine: 'podman' });
      const used = await corral(['--remote', 'box', 'list', '--json'], { cwd: ws, env: env() });
      expect(used.code).toBe(0);
      const bad = await corral(['remote', 'add', 'x', 'ssh://-oProxyCommand=evil', '--json'], { env: env() });
      expect(bad.code).not.toBe(0);
      const rm1 = await corral(['remote', 'rm', 'box', '--json'], { env: env() });
      expect(rm1.code).toBe(0);
      const after = JSON.parse((await corral(['remote', 'list', '--json'], { env: env() })).stdout) as {
        name: string;
      }[];
      expect(after.map((r) => r.name)).not.toContain('box');
    });
  },
);
