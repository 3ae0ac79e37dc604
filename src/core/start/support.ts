/** What `launch` needs around the sandbox itself: a stored token, a model URL, skills, the gateway watcher. */
import type { AgentSpec } from '../../agents/types.js';
import type { ContainerEngine } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import { interfaceAddresses } from '../../gateway/host-addresses.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import type { CoreContext } from '../context.js';

export async function storedTokenFor(agent: AgentSpec, profile: string, env: NodeJS.ProcessEnv) {
  if (!agent.setupToken) return undefined;
  const { readStoredToken } = await import('../../auth/token.js');
  const { detectKeyring } = await import('../../auth/keyring.js');
  return readStoredToken(agent.name, profile, detectKeyring(env));
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '0.0.0.0', '[::1]'];
const HOST_ALIASES = ['host.containers.internal', 'host.docker.internal'];

/**
 * Whether a model URL names the machine the sandbox runs on, which it reaches only through the
 * host alias on an allowed host port. Locally: loopback, an engine's host alias, or one of this
 * machine's own addresses. On a remote engine (`remote` is its ssh:// URL) the host is that
 * machine, named by the alias only; this machine's addresses are then an ordinary place on the
 * network (allowed by a host:port rule), and its loopback is out of the sandbox's reach, so a URL
 * naming it is refused rather than quietly sent to the remote machine's loopback.
 */
export function isHostUrl(u: URL, remote?: string): boolean {
  const bare = u.hostname.replace(/^\[|\]$/g, '');
  if (remote) {
    if (LOOPBACK_NAMES.includes(u.hostname) || /^127\./.test(bare)) throw loopbackOnRemote(u, remote);
    return HOST_ALIASES.includes(u.hostname);
  }
  return (
    LOOPBACK_NAMES.includes(u.hostname) ||
    HOST_ALIASES.includes(u.hostname) ||
    interfaceAddresses().includes(bare)
  );
}

function loopbackOnRemote(u: URL, remote: string): CorralError {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return new CorralError(
    'BAD_INPUT',
    `${u.origin} names this machine's loopback, which a sandbox on the remote engine ${remote} cannot reach.`,
    `For a server on that machine use ${u.protocol}//host.containers.internal:${port}; for one on this machine, make it listen on an address ${remote} reaches and give that address.`,
  );
}

function parseModelUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new CorralError(
      'BAD_INPUT',
      `--model-url "${url}" is not a URL.`,
      'Use e.g. http://127.0.0.1:8080',
    );
  }
}

/** Rewrite a model URL on the sandbox's host to the host as the sandbox sees it. */
export function sandboxModelUrl(url: string, alias: string, remote?: string): string {
  const u = parseModelUrl(url);
  if (isHostUrl(u, remote)) u.hostname = alias;
  return u.toString().replace(/\/$/, '');
}

/**
 * The agent's locked skills (`corral skills`): the store mounted read-only, copied into its home
 * at start when the lock changed. Costs one file read when no skill was ever added.
 */
export async function withSkills(ctx: CoreContext, agent: AgentSpec, spec: SandboxSpec): Promise<void> {
  if (!agent.skillsDir) return;
  const { skillsRoot } = await import('../../skills/lock.js');
  const { corralPaths } = await import('../../config/paths.js');
  const { skillsPlan } = await import('../../skills/install.js');
  const plan = await skillsPlan(agent, skillsRoot(ctx.env, corralPaths.data));
  if (!plan) return;
  if (plan.missing.length)
    ctx.note(
      `corral: skill ${plan.missing.join(', ')} is locked but not stored here; run \`corral skills sync\`.`,
    );
  spec.mounts = [...spec.mounts, plan.mount];
  spec.init = [...plan.init, ...spec.init];
}

/**
 * What the gateway must let through for a model endpoint, so `--model-url`/`--provider` work
 * without an extra flag: a port on the host, or an allow rule for a host:port elsewhere.
 */
export function modelEgress(url: string, remote?: string): { hostPort?: number; allow?: string } {
  const u = parseModelUrl(url);
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  if (isHostUrl(u, remote)) return { hostPort: port };
  return { allow: `${u.hostname}:${port}` };
}

/** Watches the workspace's gateway during an attached gateway run (a no-op otherwise). */
export function gatewayWatcher(
  ctx: CoreContext,
  engine: ContainerEngine,
  workspaceId: string,
  spec: Pick<SandboxSpec, 'network' | 'detached'>,
): { start(): Promise<void>; stop(): void } {
  let ended = false;
  let watch: { stop(): void } | undefined;
  return {
    async start() {
      if (spec.network.mode !== 'gateway' || spec.detached) return;
      const { watchGateway } = await import('../../gateway/watch.js');
      if (!ended) watch = watchGateway(engine, workspaceId, { note: (line) => ctx.note(line) });
    },
    stop() {
      ended = true;
      watch?.stop();
    },
  };
}
