/**
 * SSH for editors. The daemon runs the SSH server (startSshService: on demand, and again whenever
 * the daemon starts once it has been used); `corral ssh-config` (writeSshConfig) starts the daemon
 * and its server if needed, then writes the client side: a Host entry per running sandbox, the
 * known_hosts file, and with `install` the Include line in ~/.ssh/config.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corralPaths } from '../config/index.js';
import { listSandboxes } from '../sandbox/manage.js';
import {
  HOST_KEY_ALIAS,
  installInclude,
  knownHostsLine,
  renderSshConfig,
  type SshHostEntry,
  writePrivate,
} from '../ssh/config.js';
import { sshPaths, userHome } from '../ssh/paths.js';
import type { CoreContext } from './context.js';
import { daemonCall } from './daemon-client.js';
import { startDaemon } from './daemon-control.js';
import { daemonPaths } from './daemon-paths.js';

export type { SshHostEntry };

/** What the daemon's SSH server tells `corral ssh-config` (POST /api/ssh). */
export interface SshServiceInfo {
  port: number;
  /** The host key's public line. */
  hostKey: string;
  /** corral's client private key. */
  identityFile: string;
  sandboxes: { name: string; agent: string; workspacePath: string }[];
}

export interface SshService {
  port: number;
  hostKey: string;
  identityFile: string;
  close(): Promise<void>;
}

/** Whether the SSH server has been used before (so the daemon starts it with itself). */
export const sshServiceWanted = (env: NodeJS.ProcessEnv): boolean => existsSync(sshPaths(env).stateFile);

/**
 * Start the SSH server on 127.0.0.1, on the port it had last time when that is free (so the
 * written config stays right across daemon restarts), else on a new one.
 */
export async function startSshService(ctx: CoreContext): Promise<SshService> {
  // ssh2 is loaded only here, off the start path of every other command.
  const { ensureKeyPair } = await import('../ssh/keys.js');
  const { startSshServer } = await import('../ssh/server.js');
  const paths = sshPaths(ctx.env);
  const host = await ensureKeyPair(paths.hostKey, 'corral ssh host key');
  const client = await ensureKeyPair(paths.clientKey, 'corral ssh client key');
  const last = await readFile(paths.stateFile, 'utf8')
    .then((t) => Number((JSON.parse(t) as { port?: unknown }).port) || 0)
    .catch(() => 0);
  const options = {
    engine: await ctx.engine(),
    env: ctx.env,
    hostKey: host.private,
    clientKeyPub: client.public,
    log: (line: string) => ctx.note(line),
  };
  let server: Awaited<ReturnType<typeof startSshServer>>;
  try {
    server = await startSshServer({ ...options, port: last });
  } catch (e) {
    if (!last || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    server = await startSshServer({ ...options, port: 0 });
    ctx.note(`ssh: port ${last} is taken; now on ${server.port} (run \`corral ssh-config\` again)`);
  }
  await writePrivate(paths.stateFile, `${JSON.stringify({ port: server.port })}\n`);
  ctx.note(`ssh: listening on 127.0.0.1:${server.port}`);
  return {
    port: server.port,
    hostKey: host.public,
    identityFile: paths.clientKey,
    close: () => server.close(),
  };
}

/** The running sandboxes an SSH user name can select (the daemon's answer to POST /api/ssh). */
export async function sshServiceInfo(ctx: CoreContext, service: SshService): Promise<SshServiceInfo> {
  const running = await listSandboxes(await ctx.engine(), { running: true });
  return {
    port: service.port,
    hostKey: service.hostKey,
    identityFile: service.identityFile,
    sandboxes: running.map((s) => ({ name: s.name, agent: s.agent, workspacePath: s.workspacePath })),
  };
}

export interface SshConfigInput {
  /** Add the Include line to ~/.ssh/config. */
  install?: boolean;
}

export interface SshConfigResult {
  port: number;
  configFile: string;
  knownHostsFile: string;
  identityFile: string;
  /** With install: ~/.ssh/config and whether the line was added now (false: it was there). */
  include?: { path: string; added: boolean };
  hosts: SshHostEntry[];
}

export function sshConfigFiles(): { configFile: string; knownHostsFile: string } {
  const dir = join(corralPaths.config, 'ssh');
  return { configFile: join(dir, 'config'), knownHostsFile: join(dir, 'known_hosts') };
}

/** Write the Host entries and known_hosts for what the daemon's SSH server serves now. */
async function writeSshFiles(info: SshServiceInfo): Promise<SshHostEntry[]> {
  const { configFile, knownHostsFile } = sshConfigFiles();
  const hosts: SshHostEntry[] = info.sandboxes.map((s) => ({
    host: s.name,
    agent: s.agent,
    workspacePath: s.workspacePath,
    hostName: '127.0.0.1',
    port: info.port,
    user: s.name,
    identityFile: info.identityFile,
    hostKeyAlias: HOST_KEY_ALIAS,
    knownHostsFile,
  }));
  await writePrivate(knownHostsFile, knownHostsLine(info.hostKey));
  await writePrivate(configFile, renderSshConfig(hosts));
  return hosts;
}

/**
 * The daemon keeps the entries current as sandboxes start and stop, once the user has run
 * `corral ssh-config` (the file exists): editors list the new sandbox without another command.
 */
export async function refreshSshConfig(info: SshServiceInfo): Promise<boolean> {
  if (!existsSync(sshConfigFiles().configFile)) return false;
  await writeSshFiles(info);
  return true;
}

export async function writeSshConfig(ctx: CoreContext, input: SshConfigInput = {}): Promise<SshConfigResult> {
  const dpaths = daemonPaths(ctx.env);
  await startDaemon(dpaths, { env: ctx.env });
  const info = await daemonCall<SshServiceInfo>(dpaths, 'POST', '/api/ssh');
  const { configFile, knownHostsFile } = sshConfigFiles();
  const hosts = await writeSshFiles(info);
  const include = input.install ? await installInclude(userHome(ctx.env), configFile) : undefined;
  return {
    port: info.port,
    configFile,
    knownHostsFile,
    identityFile: info.identityFile,
    ...(include ? { include } : {}),
    hosts,
  };
}
