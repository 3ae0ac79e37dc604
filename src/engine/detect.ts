/**
 * Finding an engine is a list of small strategies tried in order; the first that answers wins.
 * Strategies take env and a probe function as parameters so unit tests can swap them.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { CorralError } from '../errors.js';
import { apiOptions, type Transport } from './hijack.js';
import type { EngineKind, LocalEngineKind } from './types.js';

export interface Candidate {
  /** Where it came from, for messages: "--engine", "DOCKER_HOST", "rootless podman"... */
  source: string;
  endpoint: string;
  transport: Transport;
  /** Known kind, or undefined to ask the engine (DOCKER_HOST may point at either). */
  kind?: EngineKind;
  /** How to start the service if the socket is missing (Podman only). */
  start?: { command: string; args: string[]; socketPath: string };
  /** An engine on another machine (`ssh://…`): connected by remote/, not probed here. */
  ssh?: { url: string; kind?: LocalEngineKind };
}

export interface DetectEnv {
  env: NodeJS.ProcessEnv;
  uid: number;
  /** Is a program on PATH? */
  which: (cmd: string) => boolean;
}

export function defaultDetectEnv(): DetectEnv {
  return {
    env: process.env,
    uid: process.getuid?.() ?? 0,
    which: (cmd) => onPath(cmd, process.env.PATH),
  };
}

/** Is `cmd` an executable file in a folder of `path`? (A shell's `command -v` costs a process.) */
export function onPath(cmd: string, path = ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, cmd), constants.X_OK);
        return statSync(join(dir, cmd)).isFile();
      } catch {
        return false;
      }
    });
}

export function transportFromUrl(url: string): Transport {
  if (/^ssh:\/\//i.test(url)) {
    // Before: read as tcp://host:2375, a plain-HTTP engine port on the SSH host.
    throw new CorralError(
      'BAD_INPUT',
      `${url} is an SSH address, not a socket.`,
      'Pass it as --engine ssh://user@host.',
    );
  }
  if (url.startsWith('unix://')) return { socketPath: url.slice('unix://'.length) };
  if (url.startsWith('/')) return { socketPath: url };
  const u = new URL(url.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || 2375) };
}

function podmanCandidates(d: DetectEnv): Candidate[] {
  const out: Candidate[] = [];
  const runtimeDir = d.env.XDG_RUNTIME_DIR ?? (d.uid !== 0 ? `/run/user/${d.uid}` : undefined);
  const rootless = d.uid !== 0 && runtimeDir ? join(runtimeDir, 'podman', 'podman.sock') : undefined;
  const start = (socketPath: string) =>
    d.which('podman')
      ? { command: 'podman', args: ['system', 'service', '--time=0', `unix://${socketPath}`], socketPath }
      : undefined;
  if (rootless) {
    out.push({
      source: 'rootless podman',
      endpoint: `unix://${rootless}`,
      transport: { socketPath: rootless },
      kind: 'podman',
      start: start(rootless),
    });
  }
  const rootful = '/run/podman/podman.sock';
  out.push({
    source: 'rootful podman',
    endpoint: `unix://${rootful}`,
    transport: { socketPath: rootful },
    kind: 'podman',
    start: d.uid === 0 ? start(rootful) : undefined,
  });
  return out;
}

/**
 * DOCKER_HOST or Podman's CONTAINER_HOST, which may name a socket, a TCP port or (`ssh://…`) an
 * engine on another machine. Over SSH the variable says which engine it is; a socket answers for itself.
 */
function hostVarCandidate(
  source: 'DOCKER_HOST' | 'CONTAINER_HOST',
  url: string,
  kind?: LocalEngineKind,
): Candidate {
  if (/^ssh:\/\//i.test(url)) {
    const sshKind = source === 'DOCKER_HOST' ? 'docker' : 'podman';
    return { source, endpoint: url, transport: {}, kind: sshKind, ssh: { url, kind: sshKind } };
  }
  return { source, endpoint: url, transport: transportFromUrl(url), ...(kind ? { kind } : {}) };
}

function dockerCandidate(): Candidate {
  const sock = '/var/run/docker.sock';
  return { source: 'docker', endpoint: `unix://${sock}`, transport: { socketPath: sock }, kind: 'docker' };
}

/**
 * The ordered list of places to look, per the documented detection order. `requestedBy` says where
 * `requested` came from, for messages: `--engine` (the default), `CORRAL_ENGINE`, or the config file.
 */
export function candidates(d: DetectEnv, requested?: string, requestedBy?: string): Candidate[] {
  const choice = requested ?? d.env.CORRAL_ENGINE;
  if (choice) {
    const source = requested ? (requestedBy ?? '--engine') : 'CORRAL_ENGINE';
    // As each engine's own client does: its variable, when set, is the one place it looks.
    if (choice === 'podman') {
      return d.env.CONTAINER_HOST
        ? [hostVarCandidate('CONTAINER_HOST', d.env.CONTAINER_HOST, 'podman')]
        : podmanCandidates(d);
    }
    if (choice === 'docker') {
      return d.env.DOCKER_HOST
        ? [hostVarCandidate('DOCKER_HOST', d.env.DOCKER_HOST, 'docker')]
        : [dockerCandidate()];
    }
    if (/^ssh:\/\//i.test(choice)) {
      return [{ source, endpoint: choice, transport: {}, ssh: { url: choice } }];
    }
    if (/^(unix|tcp):\/\/|^\//.test(choice)) {
      return [{ source, endpoint: choice, transport: transportFromUrl(choice) }];
    }
    throw new CorralError(
      'BAD_INPUT',
      `Unknown engine "${choice}".`,
      'Use --engine podman, --engine docker, ssh://user@host (an engine on another machine), or a socket such as unix:///run/podman/podman.sock.',
    );
  }
  const list: Candidate[] = [];
  if (d.env.DOCKER_HOST) list.push(hostVarCandidate('DOCKER_HOST', d.env.DOCKER_HOST));
  if (d.env.CONTAINER_HOST) list.push(hostVarCandidate('CONTAINER_HOST', d.env.CONTAINER_HOST, 'podman'));
  list.push(...podmanCandidates(d), dockerCandidate());
  return list;
}

/**
 * GET /_ping; resolves the engine kind from its headers, or undefined when nothing answers.
 * (/version would tell too, but costs ~0.5 s on Podman 4.3 against ~10 ms for /_ping.)
 */
export function probe(transport: Transport, timeoutMs = 3000): Promise<EngineKind | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ ...apiOptions(transport), path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        const libpod =
          res.headers['libpod-api-version'] !== undefined || /libpod/i.test(String(res.headers.server));
        resolve(libpod ? 'podman' : 'docker');
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Start `podman system service` in the background and wait for its socket to answer. */
export async function startPodmanService(start: NonNullable<Candidate['start']>): Promise<boolean> {
  // Podman does not make the socket's folder: $XDG_RUNTIME_DIR/podman is missing on a fresh login.
  mkdirSync(dirname(start.socketPath), { recursive: true });
  const child = spawn(start.command, start.args, { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  for (let i = 0; i < 50; i++) {
    if (existsSync(start.socketPath) && (await probe({ socketPath: start.socketPath }, 500))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Where corral looks by itself, as against endpoints the user named (a flag, a variable, the config). */
const OWN = ['rootless podman', 'rootful podman', 'docker'];
const VARIABLES = ['CORRAL_ENGINE', 'DOCKER_HOST', 'CONTAINER_HOST'];

export function noEngineError(tried: Candidate[]): CorralError {
  const message = `No container engine answered (tried: ${tried.map((c) => `${c.source} at ${c.endpoint}`).join(', ')}).`;
  const named = tried.find((c) => !OWN.includes(c.source) && !c.ssh);
  if (named) {
    // An engine was configured: installing one is not the fix; the one named is down or misnamed.
    const src = named.source;
    const what = VARIABLES.includes(src)
      ? `${src} is set to ${named.endpoint}, which names`
      : src === '--engine'
        ? `--engine ${named.endpoint} names`
        : `${src} (${named.endpoint}) names`;
    const start =
      named.kind === 'podman' || src === 'CONTAINER_HOST'
        ? `\`podman system service --time=0 ${named.endpoint}\``
        : 'dockerd, or `podman system service` for a Podman socket';
    const fix = VARIABLES.includes(src)
      ? `correct ${src}, or unset it to let corral find a local engine`
      : src === '--engine'
        ? 'pass another --engine'
        : 'change that setting';
    return new CorralError(
      'ENGINE_NOT_FOUND',
      message,
      `${what} an engine whose daemon is not answering: start it (${start}), or ${fix}.`,
    );
  }
  return new CorralError(
    'ENGINE_NOT_FOUND',
    message,
    'Install Podman (recommended: `sudo apt-get install -y podman runc aardvark-dns`) or Docker ' +
      '(`sudo apt-get install -y docker.io`), or run ./scripts/setup; point corral at a running engine with --engine or DOCKER_HOST.',
  );
}
