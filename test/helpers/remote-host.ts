/**
 * A second "machine" for the remote-engine tests: an OpenSSH server in its own network namespace
 * (veth pair, /32 addresses 10.251.0.1 here and 10.251.0.2 there, host routes only), a test user
 * with rootless Podman, and the client side (key, known_hosts, ssh_config) corral is pointed at
 * with CORRAL_SSH_CONFIG. Built once and reused: a later call finds sshd answering and returns.
 * Needs root (netns, useradd) and the openssh-server package (scripts/setup installs it).
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

export const REMOTE_NS = 'corral-remote';
export const REMOTE_USER = 'corral-remote';
export const REMOTE_UID = 2410;
export const HOST_ADDR = '10.251.0.1';
export const REMOTE_ADDR = '10.251.0.2';
export const REMOTE_PORT = 2222;
export const REMOTE_URL = `ssh://${REMOTE_USER}@${REMOTE_ADDR}:${REMOTE_PORT}`;
/** Client-side files (key, known_hosts, ssh_config) and the server's config, outside any worktree. */
export const DIR = '/var/lib/corral-test-remote';
export const SSH_CONFIG = `${DIR}/client/ssh_config`;
export const KNOWN_HOSTS = `${DIR}/client/known_hosts`;

const sh = (cmd: string) => execSync(cmd, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const quiet = (cmd: string) => {
  try {
    return sh(cmd);
  } catch {
    return undefined;
  }
};

export function remoteSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the remote-engine tests need root (a network namespace, a test user)';
  if (!existsSync('/usr/sbin/sshd'))
    return 'the remote-engine tests need sshd (apt-get install openssh-server)';
  if (!quiet('command -v podman')) return 'the remote-engine tests need Podman for the remote user';
  return undefined;
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

function network(): void {
  if (!quiet(`ip netns list | grep -w ${REMOTE_NS}`)) sh(`ip netns add ${REMOTE_NS}`);
  if (!quiet('ip link show crmt0')) {
    sh(`ip link add crmt0 type veth peer name crmt1`);
    sh(`ip link set crmt1 netns ${REMOTE_NS}`);
  }
  quiet(`ip addr add ${HOST_ADDR}/32 dev crmt0`);
  sh('ip link set crmt0 up');
  quiet(`ip route replace ${REMOTE_ADDR}/32 dev crmt0 src ${HOST_ADDR}`);
  const ns = `ip netns exec ${REMOTE_NS}`;
  quiet(`${ns} ip addr add ${REMOTE_ADDR}/32 dev crmt1`);
  sh(`${ns} ip link set crmt1 up && ${ns} ip link set lo up`);
  quiet(`${ns} ip route replace ${HOST_ADDR}/32 dev crmt1 src ${REMOTE_ADDR}`);
}

function user(): void {
  if (!quiet(`id -u ${REMOTE_USER}`))
    execFileSync('useradd', ['-m', '-s', '/bin/sh', '-u', String(REMOTE_UID), REMOTE_USER]);
  // No password, but not locked either (sshd refuses a locked account even with a key).
  execFileSync('usermod', ['-p', '*', REMOTE_USER]);
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (!readFileSync(f, 'utf8').includes(`${REMOTE_USER}:`)) sh(`echo ${REMOTE_USER}:300000:65536 >> ${f}`);
  }
  // No pam_systemd here: the user's runtime dir is made as logind would.
  sh(
    `mkdir -p /run/user/${REMOTE_UID} && chown ${REMOTE_UID}:${REMOTE_UID} /run/user/${REMOTE_UID} && chmod 700 /run/user/${REMOTE_UID}`,
  );
  // The same engine setup the machine's own Podman has (runc; see scripts/setup).
  const conf = `/home/${REMOTE_USER}/.config/containers`;
  sh(`mkdir -p ${conf}`);
  if (existsSync('/etc/containers/containers.conf') && !existsSync(`${conf}/containers.conf`)) {
    sh(`cp /etc/containers/containers.conf ${conf}/containers.conf`);
  }
  // Native overlay in the user namespace (this kernel has it): Podman's rootless default here is
  // vfs, which copies the whole image per container (21 s create, 25 s remove for Claude's).
  if (!existsSync(`${conf}/storage.conf`))
    writeFileSync(`${conf}/storage.conf`, '[storage]\ndriver = "overlay"\n');
  sh(`chown -R ${REMOTE_UID}:${REMOTE_UID} /home/${REMOTE_USER}/.config`);
}

function keys(): void {
  mkdirSync(`${DIR}/server`, { recursive: true, mode: 0o700 });
  mkdirSync(`${DIR}/client`, { recursive: true, mode: 0o700 });
  if (!existsSync(`${DIR}/server/host_ed25519`))
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${DIR}/server/host_ed25519`);
  if (!existsSync(`${DIR}/client/id_ed25519`))
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${DIR}/client/id_ed25519`);
  const home = `/home/${REMOTE_USER}`;
  sh(`mkdir -p ${home}/.ssh && cp ${DIR}/client/id_ed25519.pub ${home}/.ssh/authorized_keys`);
  sh(
    `chown -R ${REMOTE_UID}:${REMOTE_UID} ${home}/.ssh && chmod 700 ${home}/.ssh && chmod 600 ${home}/.ssh/authorized_keys`,
  );
  const hostKey = readFileSync(`${DIR}/server/host_ed25519.pub`, 'utf8')
    .trim()
    .split(' ')
    .slice(0, 2)
    .join(' ');
  writeFileSync(KNOWN_HOSTS, `[${REMOTE_ADDR}]:${REMOTE_PORT} ${hostKey}\n`);
  writeFileSync(
    SSH_CONFIG,
    [
      `Host ${REMOTE_ADDR}`,
      `  IdentityFile ${DIR}/client/id_ed25519`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${KNOWN_HOSTS}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
  writeFileSync(
    `${DIR}/server/sshd_config`,
    [
      `ListenAddress ${REMOTE_ADDR}:${REMOTE_PORT}`,
      `HostKey ${DIR}/server/host_ed25519`,
      `PidFile ${DIR}/server/sshd.pid`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AllowUsers ${REMOTE_USER}`,
      'AllowStreamLocalForwarding yes',
      'X11Forwarding no',
      'StreamLocalBindUnlink yes',
      '',
    ].join('\n'),
  );
}

/** Build (first time) or find the remote machine; resolves once its sshd answers. */
export async function ensureRemoteHost(opts: { docker?: boolean } = {}): Promise<void> {
  network();
  // Docker there is this machine's dockerd through its socket, for a user in its group.
  if (
    opts.docker &&
    quiet(`id -u ${REMOTE_USER}`) &&
    !quiet(`id -nG ${REMOTE_USER}`)?.split(/\s+/).includes('docker')
  ) {
    execFileSync('usermod', ['-aG', 'docker', REMOTE_USER]);
  }
  if (await answers(REMOTE_ADDR, REMOTE_PORT)) return;
  user();
  if (opts.docker) execFileSync('usermod', ['-aG', 'docker', REMOTE_USER]);
  keys();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  // nsenter, not `ip netns exec`: that also remounts /sys, and runc then finds no cgroup mounts.
  sh(
    `nsenter --net=/var/run/netns/${REMOTE_NS} /usr/sbin/sshd -f ${DIR}/server/sshd_config -E ${DIR}/server/sshd.log`,
  );
  for (let i = 0; i < 50; i++) {
    if (await answers(REMOTE_ADDR, REMOTE_PORT)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd in ${REMOTE_NS} did not answer (see ${DIR}/server/sshd.log)`);
}

/** As the remote user, on the remote machine (through its sshd, as corral reaches it). */
export function onRemote(cmd: string): string {
  return execFileSync(
    'ssh',
    [
      '-F',
      SSH_CONFIG,
      '-o',
      'BatchMode=yes',
      '-p',
      String(REMOTE_PORT),
      `${REMOTE_USER}@${REMOTE_ADDR}`,
      cmd,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).toString();
}
