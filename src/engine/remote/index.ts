/**
 * The front door of remote engines: connect over SSH, find (or start) Podman or Docker there,
 * forward its socket here, and wrap it (engine.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../../errors.js';
import { shellQuote } from '../command-line.js';
import { probe } from '../detect.js';
import type { ContainerEngine, LocalEngineKind } from '../types.js';
import { clientId, RemoteEngine, type RemoteInfo, remoteInner } from './engine.js';
import { SshSession, sshRuntimeDir } from './ssh.js';
import { parseSshUrl } from './url.js';

export { RemoteEngine } from './engine.js';
export { SshSession, sshRuntimeDir } from './ssh.js';
export { plan, type SyncReport, syncTrees } from './sync.js';
export { formatSshUrl, isSshUrl, parseSshUrl, type SshTarget } from './url.js';

/**
 * One round trip: which engine, its socket (a rootless Podman's service is started if its socket
 * is missing, as corral does locally), whether it is rootless, and the remote home. Its inputs
 * ($want, $given, $restart) are set on the line before it.
 */
const DISCOVER = `export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
id -u; id -g
if [ -n "$given" ] && [ "$restart" = 0 ]; then printf '%s\\n%s\\nask\\n%s\\n' "$want" "$given" "$HOME"; exit 0; fi
if [ "$want" != docker ] && command -v podman >/dev/null 2>&1; then
  set -- $(podman info --format "{{.Host.RemoteSocket.Path}} {{.Host.Security.Rootless}}" 2>/dev/null)
  s=\${given:-\${1#unix://}}; rootless=\${2:-false}
  if [ -n "$s" ]; then
    if [ "$restart" = 1 ] || [ ! -S "$s" ]; then
      rm -f "$s"; mkdir -p "$(dirname "$s")"
      setsid nohup podman system service --time=0 "unix://$s" >/dev/null 2>&1 </dev/null &
      i=0; while [ ! -S "$s" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    fi
    printf 'podman\\n%s\\n%s\\n%s\\n' "$s" "$rootless" "$HOME"; exit 0
  fi
fi
if [ "$want" != podman ]; then
  s=\${given:-/var/run/docker.sock}
  if [ -S "$s" ]; then printf 'docker\\n%s\\nfalse\\n%s\\n' "$s" "$HOME"; exit 0; fi
fi
exit 4`;

function discoverScript(
  want: LocalEngineKind | undefined,
  socket: string | undefined,
  restart: boolean,
): string {
  return `want=${want ?? 'any'}; given=${shellQuote(socket ?? '')}; restart=${restart ? 1 : 0}\n${DISCOVER}`;
}

async function discover(
  ssh: SshSession,
  want: LocalEngineKind | undefined,
  socket: string | undefined,
  restart: boolean,
): Promise<RemoteInfo> {
  const r = await ssh.run(discoverScript(want, socket, restart));
  if (r.code !== 0) {
    throw new CorralError(
      'ENGINE_NOT_FOUND',
      `No ${want ?? 'Podman or Docker'} engine found on ${ssh.url}${r.code === 4 ? '' : `: ${r.stderr.trim().slice(-300)}`}.`,
      'Install Podman there (rootless works), or Docker with the user in its group; `corral remote add NAME URL --engine docker` picks one.',
    );
  }
  const [uid, gid, kind, sock, rootless, home] = r.stdout.toString().trim().split('\n');
  return {
    owner: { uid: Number(uid), gid: Number(gid) },
    kind: (kind === 'any' ? 'podman' : kind) as LocalEngineKind,
    socket: sock!,
    rootless: rootless === 'true',
    rootlessUnknown: rootless === 'ask',
    stateDir: `${home}/.cache/corral-remote/${clientId()}`,
  };
}

export async function connectRemote(
  url: string,
  opts: { kind?: LocalEngineKind | undefined; env: NodeJS.ProcessEnv },
  builder: (kind: LocalEngineKind) => Promise<ContainerEngine>,
): Promise<RemoteEngine> {
  const target = parseSshUrl(url);
  const ssh = new SshSession(target, sshRuntimeDir(opts.env), opts.env.CORRAL_SSH_CONFIG || undefined);
  await ssh.connect();
  let info = await discover(ssh, opts.kind, target.socket, false);
  const local = join(
    ssh.dir,
    `e-${ssh.key()}-${createHash('sha256').update(info.socket).digest('hex').slice(0, 8)}.sock`,
  );
  // A forward an earlier command made is reused while the master connection lives.
  if (!(existsSync(local) && (await probe({ socketPath: local }, 2000)))) {
    await ssh.forwardLocal(local, info.socket);
    if (!(await probe({ socketPath: local }, 5000))) {
      // A socket file with no service behind it (the service died): start it again once.
      info = await discover(ssh, info.kind, target.socket, info.kind === 'podman');
      if (!(await probe({ socketPath: local }, 5000))) {
        throw new CorralError(
          'ENGINE_UNREACHABLE',
          `The ${info.kind} engine on ${ssh.url} does not answer on ${info.socket}.`,
          info.kind === 'podman'
            ? 'Check `podman info` there as that user (rootless Podman needs subuids and XDG_RUNTIME_DIR).'
            : 'Check that dockerd runs there and that the user may use its socket (the docker group).',
        );
      }
    }
  }
  if (info.rootlessUnknown) {
    // A socket named in the URL (a bridge process reconnecting): the engine tells what it is.
    const kind = (await probe({ socketPath: local }, 5000)) as LocalEngineKind;
    const rootless = (await remoteInner({ ...info, kind }, ssh, local).info()).rootless;
    info = { ...info, kind, rootless };
  }
  const inner = remoteInner(info, ssh, local);
  return new RemoteEngine(inner, ssh, info, local, await builder(info.kind));
}
