/** What `launch` needs around the sandbox itself: joining a running one, a stored token, a model URL. */
import type { AgentSpec } from '../../agents/types.js';
import type { ContainerEngine } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import type { Stdio } from '../../sandbox/attach.js';
import { buildEnv } from '../../sandbox/env.js';
import { execIn, toInfo } from '../../sandbox/manage.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import { trace } from '../../trace.js';
import { containerName, LABELS, type Workspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput } from '../types.js';

/**
 * `corral shell` beside a running sandbox joins it (an exec, ~0.1 s) instead of starting a second
 * container: the same sandbox, and the warm path for scripts that run many short commands.
 */
export async function joinRunning(
  ctx: CoreContext,
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  args: string[],
  opts: StartSandboxInput,
  io: () => Stdio,
): Promise<number | undefined> {
  // One inspect by the sandbox's well-known name: listing containers costs ~0.1 s on Podman.
  const details = await engine.inspect(containerName(workspace, agent.name));
  if (!details?.running || details.labels[LABELS.managed] !== 'true') return undefined;
  const target = toInfo(details);
  trace('found running');
  const env = await buildEnv({
    agentDefaults: {},
    envFiles: opts.envFile ?? [],
    flags: opts.env ?? [],
    host: ctx.env,
  });
  const stdio = io();
  return execIn(engine, target, args.length ? args : ['/bin/bash', '-l'], stdio, {
    tty: Boolean(stdio.stdin.isTTY),
    ...(Object.keys(env).length ? { env } : {}),
  });
}

export async function storedTokenFor(agent: AgentSpec, profile: string, env: NodeJS.ProcessEnv) {
  if (!agent.setupToken) return undefined;
  const { readStoredToken } = await import('../../auth/token.js');
  const { detectKeyring } = await import('../../auth/keyring.js');
  return readStoredToken(agent.name, profile, detectKeyring(env));
}

/** Rewrite a loopback model URL to the host as the sandbox sees it. */
export function sandboxModelUrl(url: string, alias: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CorralError(
      'BAD_INPUT',
      `--model-url "${url}" is not a URL.`,
      'Use e.g. http://127.0.0.1:8080',
    );
  }
  if (['127.0.0.1', 'localhost', '0.0.0.0', '[::1]'].includes(u.hostname)) u.hostname = alias;
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
