/**
 * SSH for editors, with the real OpenSSH client against the daemon's SSH server, on each engine:
 * exec (output, stdin EOF, exit status), a shell with a PTY (and a resize, through ssh2's client),
 * scp both ways, an sftp batch, `ssh -L` to a server inside a sandbox that has no network at all,
 * and the refusals: a key nobody authorised, a sandbox that does not exist, a host key that does
 * not match, nothing listening off loopback. HOME is a temporary folder throughout (corral reads
 * the user's keys from $HOME/.ssh; OpenSSH itself is pointed at files there with -F).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // ssh may exit before reading its input (a refused login): not an error here.
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface SshConfigJson {
  port: number;
  configFile: string;
  knownHostsFile: string;
  identityFile: string;
  include?: { path: string; added: boolean };
  hosts: { host: string; user: string; port: number; identityFile: string }[];
}

for (const kind of TEST_ENGINES) {
  describe(`ssh for editors on ${kind}`, () => {
    let root: string;
    let home: string;
    let ws: string;
    let env: NodeJS.ProcessEnv;
    let cfg: SshConfigJson;
    let host: string;
    let sshConfigFile: string;
    const ssh = (args: string[], opts?: { input?: string; timeoutMs?: number }) =>
      run('ssh', ['-F', sshConfigFile, '-o', 'BatchMode=yes', ...args], opts);

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      root = await realpath(await mkdtemp(join(tmpdir(), 'corral-ssh-')));
      home = join(root, 'home');
      ws = join(root, 'ws');
      await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      await mkdir(ws);
      env = {
        HOME: home,
        XDG_CONFIG_HOME: '',
        XDG_DATA_HOME: '',
        XDG_RUNTIME_DIR: '',
        CORRAL_DAEMON_DIR: join(root, 'daemon'),
        CORRAL_CONFIG: '/nonexistent/corral.yaml',
        CORRAL_ENGINE: kind,
        CORRAL_CACHE_DIR: testBuildSettings().cacheDir,
      };
      // The user's own key (authorised by being in ~/.ssh) and an entry of theirs that must survive.
      expect(
        (await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh/id_user')])).code,
      ).toBe(0);
      expect(
        (await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(root, 'stranger')])).code,
      ).toBe(0);
      sshConfigFile = join(home, '.ssh/config');
      await writeFile(sshConfigFile, 'Host mine\n  HostName 192.0.2.1\n  User me\n', { mode: 0o600 });
      const up = await corral(['shell', 'claude', '-d', '--network', 'none'], { env, cwd: ws });
      expect(up.code, up.stderr).toBe(0);
      const r = await corral(['ssh-config', '--install', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      cfg = JSON.parse(r.stdout) as SshConfigJson;
      const mine = cfg.hosts.find((h) => h.host.endsWith('-claude') && h.host.startsWith('corral-'));
      const list = JSON.parse((await corral(['list', '--json'], { env, cwd: ws })).stdout) as {
        name: string;
        workspacePath: string;
      }[];
      host = list.find((s) => s.workspacePath === ws)?.name ?? '';
      expect(host).toMatch(/^corral-[0-9a-f]{12}-claude$/);
      expect(cfg.hosts.map((h) => h.host)).toContain(host);
      expect(mine).toBeDefined();
    });

    afterAll(async () => {
      if (!env) return;
      await corral(['stop', 'claude'], { env, cwd: ws }).catch(() => undefined);
      await corral(['clean'], { env, cwd: ws }).catch(() => undefined);
      await corral(['daemon', 'stop'], { env }).catch(() => undefined);
    });

    it('--install adds one Include at the top, keeps the user entries, and is idempotent', async () => {
      expect(cfg.include).toEqual({ path: sshConfigFile, added: true });
      const again = JSON.parse(
        (await corral(['ssh-config', '--install', '--json'], { env })).stdout,
      ) as SshConfigJson;
      expect(again.include?.added).toBe(false);
      expect(again.port).toBe(cfg.port);
      const text = await readFile(sshConfigFile, 'utf8');
      expect(text).toBe(`Include ${cfg.configFile}\nHost mine\n  HostName 192.0.2.1\n  User me\n`);
      for (const f of [cfg.configFile, cfg.knownHostsFile, cfg.identityFile])
        expect((await stat(f)).mode & 0o077, f).toBe(0);
      const hostKey = join(cfg.identityFile, '..', 'host_ed25519_key');
      expect((await stat(hostKey)).mode & 0o777).toBe(0o600);
      const entry = await readFile(cfg.configFile, 'utf8');
      expect(entry).toContain(`Host ${host}\n  HostName 127.0.0.1\n  Port ${cfg.port}\n  User ${host}\n`);
      expect(entry).toMatch(/StrictHostKeyChecking yes/);
    });

    it('exec: output, stderr, stdin to EOF and the exit status, as the agent user', async () => {
      const r = await ssh([host, 'echo out; echo err >&2; id -u; stat -c %u /proc/1; pwd; exit 7']);
      expect(r.code, r.stderr).toBe(7);
      const [out, uid, sandboxUid, cwd] = r.stdout.trim().split('\n');
      expect(out).toBe('out');
      expect(r.stderr).toContain('err');
      expect(uid).not.toBe('0');
      expect(uid).toBe(sandboxUid);
      expect(cwd).toBe('/workspace');
      const cat = await ssh([host, 'cat; echo done'], { input: 'line one\nline two\n' });
      expect(cat.stdout).toBe('line one\nline two\ndone\n');
      expect(cat.code).toBe(0);
    });

    it('a shell with a PTY, and window resizes', async () => {
      const r = await ssh(['-tt', host, 'tty; exit 4']);
      expect(r.code).toBe(4);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      // Resizes through ssh2's client (OpenSSH sends them only from a real terminal).
      const key = await readFile(cfg.identityFile);
      const out = await new Promise<string>((resolve, reject) => {
        const c = new Client();
        let seen = '';
        c.on('error', reject);
        c.on('ready', () => {
          c.shell({ rows: 30, cols: 100, term: 'xterm' }, (err, stream) => {
            if (err) return reject(err);
            let asking: NodeJS.Timeout | undefined;
            stream.on('data', (d: Buffer) => {
              seen += d.toString();
              if (seen.includes('size=30x100') && !asking) {
                stream.setWindow(40, 120, 0, 0);
                // The engine applies the resize asynchronously: ask until the new size shows.
                asking = setInterval(() => stream.write('echo size2=$(stty size | tr " " x)\n'), 500);
              }
              if (/size2=40x120/.test(seen)) {
                clearInterval(asking);
                stream.end('exit\n');
              }
            });
            stream.on('close', () => {
              c.end();
              resolve(seen);
            });
            stream.write('echo size=$(stty size | tr " " x)\n');
          });
        });
        c.connect({
          host: '127.0.0.1',
          port: cfg.port,
          username: host,
          privateKey: key,
          readyTimeout: 60_000,
        });
        setTimeout(() => reject(new Error(`no resize seen: ${seen}`)), 60_000);
      });
      expect(out).toMatch(/size=30x100/);
      expect(out).toMatch(/size2=40x120/);
    });

    it('scp both ways, byte for byte, files owned by the agent', async () => {
      const data = randomBytes(300_000);
      await writeFile(join(root, 'up.bin'), data);
      const up = await run('scp', [
        '-F',
        sshConfigFile,
        '-B',
        join(root, 'up.bin'),
        `${host}:/workspace/up.bin`,
      ]);
      expect(up.code, up.stderr).toBe(0);
      expect(sha(await readFile(join(ws, 'up.bin')))).toBe(sha(data));
      const who = await ssh([host, 'stat -c %u /workspace/up.bin; id -u']);
      const [owner, uid] = who.stdout.trim().split('\n');
      expect(owner).toBe(uid);
      const down = await run('scp', [
        '-F',
        sshConfigFile,
        '-B',
        `${host}:/workspace/up.bin`,
        join(root, 'down.bin'),
      ]);
      expect(down.code, down.stderr).toBe(0);
      expect(sha(await readFile(join(root, 'down.bin')))).toBe(sha(data));
    });

    it('sftp batch: mkdir, put, ls, get, rm', async () => {
      await writeFile(join(root, 'note.txt'), 'sftp works\n');
      const batch = [
        'mkdir /tmp/sftp-dir',
        `put ${join(root, 'note.txt')} /tmp/sftp-dir/note.txt`,
        'ls /tmp/sftp-dir',
        `get /tmp/sftp-dir/note.txt ${join(root, 'note-back.txt')}`,
        'rm /tmp/sftp-dir/note.txt',
        'rmdir /tmp/sftp-dir',
      ].join('\n');
      const r = await run('sftp', ['-F', sshConfigFile, '-b', '-', host], { input: `${batch}\n` });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('/tmp/sftp-dir/note.txt');
      expect(await readFile(join(root, 'note-back.txt'), 'utf8')).toBe('sftp works\n');
      expect((await ssh([host, 'test -e /tmp/sftp-dir; echo $?'])).stdout.trim()).toBe('1');
    });

    it('ssh -L reaches a server inside a sandbox that has no network interface but loopback', async () => {
      const ifaces = await ssh([host, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"]);
      expect(ifaces.stdout.trim().split('\n')).toEqual(['lo']);
      const server = 'require("http").createServer((q,s)=>s.end("inside:"+q.url)).listen(8123,"127.0.0.1")';
      const bg = await ssh([host, `nohup node -e '${server}' >/dev/null 2>&1 & sleep 1`]);
      expect(bg.code, bg.stderr).toBe(0);
      const local = 20_000 + Math.floor(Math.random() * 20_000);
      const tunnel = spawn(
        'ssh',
        [
          '-F',
          sshConfigFile,
          '-o',
          'BatchMode=yes',
          '-o',
          'ExitOnForwardFailure=yes',
          '-N',
          '-L',
          `127.0.0.1:${local}:127.0.0.1:8123`,
          host,
        ],
        { stdio: 'ignore' },
      );
      try {
        let body = '';
        const until = Date.now() + 60_000;
        while (Date.now() < until) {
          body = await fetch(`http://127.0.0.1:${local}/a`)
            .then((r) => r.text())
            .catch(() => '');
          if (body) break;
          await new Promise((r) => setTimeout(r, 300));
        }
        expect(body).toBe('inside:/a');
        expect(await (await fetch(`http://127.0.0.1:${local}/b`)).text()).toBe('inside:/b');
        // Still only loopback in the sandbox: the tunnel added no interface.
        expect((await ssh([host, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"])).stdout.trim()).toBe(
          'lo',
        );
      } finally {
        tunnel.kill();
      }
    });

    it('refuses a key nobody authorised, but takes the user’s own key', async () => {
      const base = [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        `UserKnownHostsFile=${cfg.knownHostsFile}`,
        '-o',
        'HostKeyAlias=corral-ssh',
        '-o',
        'StrictHostKeyChecking=yes',
        '-p',
        String(cfg.port),
        '-l',
        host,
      ];
      const wrong = await run('ssh', [...base, '-i', join(root, 'stranger'), '127.0.0.1', 'echo in']);
      expect(wrong.code).toBe(255);
      expect(wrong.stderr).toMatch(/Permission denied/);
      expect(wrong.stdout).not.toContain('in');
      const user = await run('ssh', [...base, '-i', join(home, '.ssh/id_user'), '127.0.0.1', 'echo in']);
      expect(user.code, user.stderr).toBe(0);
      expect(user.stdout.trim()).toBe('in');
    });

    it('refuses a sandbox that does not exist, and a host key that does not match', async () => {
      const unknown = await ssh(['-o', 'User=corral-000000000000-nope', host, 'echo in']);
      expect(unknown.code).toBe(255);
      expect(unknown.stderr).toMatch(/Permission denied/);
      // A container that is not a corral sandbox is no user name either.
      const other = await ssh(['-o', 'User=root', host, 'echo in']);
      expect(other.code).toBe(255);
      const fake = join(root, 'fake_known_hosts');
      const otherKey = (await readFile(join(root, 'stranger.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
      await writeFile(fake, `corral-ssh ${otherKey}\n`);
      const spoofed = await ssh(['-o', `UserKnownHostsFile=${fake}`, host, 'echo in']);
      expect(spoofed.code).toBe(255);
      expect(spoofed.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    });

    it('listens on 127.0.0.1 only', async () => {
      const r = await run('ss', ['-ltnH', `sport = :${cfg.port}`]);
      const locals = r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/)[3]);
      expect(locals.length).toBeGreaterThan(0);
      for (const l of locals) expect(l).toBe(`127.0.0.1:${cfg.port}`);
    });

    it('the daemon keeps the entries current as sandboxes start and stop', async () => {
      const ws2 = join(root, 'ws2');
      await mkdir(ws2);
      const waitFor = async (pred: (text: string) => boolean) => {
        const until = Date.now() + 30_000;
        let text = '';
        while (Date.now() < until) {
          text = await readFile(cfg.configFile, 'utf8');
          if (pred(text)) return text;
          await new Promise((r) => setTimeout(r, 300));
        }
        return text;
      };
      try {
        expect((await corral(['shell', 'claude', '-d', '--network', 'none'], { env, cwd: ws2 })).code).toBe(
          0,
        );
        const list = JSON.parse((await corral(['list', '--json'], { env, cwd: ws2 })).stdout) as {
          name: string;
          workspacePath: string;
        }[];
        const second = list.find((s) => s.workspacePath === ws2)?.name ?? '';
        expect(second).toMatch(/^corral-[0-9a-f]{12}-claude$/);
        expect(await waitFor((t) => t.includes(`Host ${second}\n`))).toContain(`Host ${second}\n`);
        expect((await ssh([second, 'echo second'])).stdout.trim()).toBe('second');
        expect((await corral(['stop', 'claude'], { env, cwd: ws2 })).code).toBe(0);
        expect(await waitFor((t) => !t.includes(`Host ${second}\n`))).not.toContain(`Host ${second}\n`);
        expect(await readFile(cfg.configFile, 'utf8')).toContain(`Host ${host}\n`);
      } finally {
        await corral(['clean'], { env, cwd: ws2 }).catch(() => undefined);
      }
    });

    it('comes back on the same port when the daemon restarts', async () => {
      expect((await corral(['daemon', 'stop'], { env })).code).toBe(0);
      expect((await corral(['daemon', 'start'], { env })).code).toBe(0);
      let r: Ran = { code: null, stdout: '', stderr: '' };
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        r = await ssh([host, 'echo back']);
        if (r.code === 0) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(r.stdout.trim(), r.stderr).toBe('back');
    });
  });
}
