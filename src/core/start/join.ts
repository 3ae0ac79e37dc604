/**
 * `corral shell` beside a running sandbox joins it (an exec, ~0.1 s) instead of starting a second
 * container: the same sandbox, and the warm path for scripts that run many short commands. Keys the
 * shell brings (`-e ANTHROPIC_API_KEY`, a GitHub token, `--secret-env`) are kept out as a fresh
 * run's are: behind the gateway the shell gets placeholders and the running gateway the real values.
 */
import type { AgentSpec } from '../../agents/types.js';
import type { Config } from '../../config/index.js';
import type { ContainerEngine } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import type { Stdio } from '../../sandbox/attach.js';
import { buildEnv } from '../../sandbox/env.js';
import { execIn, toInfo } from '../../sandbox/manage.js';
import { trace } from '../../trace.js';
import { containerName, LABELS, type Workspace } from '../../workspace/identity.js';
import { withPlaceholders } from '../../workspace/placeholders.js';
import { isGithubEnv, refuseSecretsWithoutGateway, withSecrets } from '../../workspace/secrets.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput } from '../types.js';

export async function joinRunning(
  ctx: CoreContext,
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  config: Config,
  args: string[],
  opts: StartSandboxInput,
  io: () => Stdio,
): Promise<number | undefined> {
  // One inspect by the sandbox's well-known name: listing containers costs ~0.1 s on Podman.
  const details = await engine.inspect(containerName(workspace, agent.name));
  if (!details?.running || details.labels[LABELS.managed] !== 'true') return undefined;
  const target = toInfo(details);
  trace('found running');
  const given = await buildEnv({
    agentDefaults: {},
    envFiles: opts.envFile ?? [],
    flags: opts.env ?? [],
    host: ctx.env,
  });
  const env = await keysKeptOut(engine, agent, workspace, config, {
    env: given,
    host: ctx.env,
    flags: opts.secretEnv ?? [],
    network: details.labels[LABELS.network],
    name: target.name,
  });
  const stdio = io();
  return execIn(engine, target, args.length ? args : ['/bin/bash', '-l'], stdio, {
    tty: Boolean(stdio.stdin.isTTY),
    ...(Object.keys(env).length ? { env } : {}),
  });
}

interface JoinEnv {
  env: Record<string, string>;
  host: NodeJS.ProcessEnv;
  /** `--secret-env` flags. */
  flags: string[];
  /** The running sandbox's network label (absent on sandboxes made before the label existed). */
  network: string | undefined;
  name: string;
}

/** The shell's env as a fresh run in the sandbox's network would have it. */
async function keysKeptOut(
  engine: ContainerEngine,
  agent: AgentSpec,
  workspace: Workspace,
  config: Config,
  j: JoinEnv,
): Promise<Record<string, string>> {
  // Only what this shell brings: the config's secrets are in the sandbox already, as placeholders.
  // (a `--secret-env KEY` flag still finds KEY's hosts in the config).
  const flagged = new Set(j.flags.map((f) => f.split('@')[0]!));
  const secretEnv = Object.fromEntries(
    Object.entries(config.secret_env ?? {}).filter(
      ([name]) => j.env[name] !== undefined || flagged.has(name),
    ),
  );
  const secrets = { host: j.host, secretEnv, flags: j.flags };
  if (j.network === 'open' || j.network === 'none') {
    refuseSecretsWithoutGateway({ ...secrets, env: j.env, credentials: [] }, j.network);
    return j.env;
  }
  const gh = config.github;
  const bringsGithub = Object.keys(j.env).some((k) => isGithubEnv(k) || k === gh?.token_env);
  const hidden = withSecrets({
    ...secrets,
    ...(gh && bringsGithub ? { github: gh } : {}),
    ...withPlaceholders(agent, j.env),
  });
  if (!hidden.credentials.length) return j.env;
  const names = Object.keys(j.env).filter((k) => hidden.env[k] !== j.env[k]);
  const refuse = (why: string) =>
    new CorralError(
      'BAD_INPUT',
      `${names.join(', ')} cannot go into the running ${j.name} as placeholders: ${why}.`,
      '`corral shell --no-join …` starts a new sandbox whose gateway injects them; or leave them out.',
    );
  if (j.network !== 'gateway')
    throw refuse('it was started by an older corral that does not say its network');
  const { addGatewayCredentials } = await import('../../gateway/join.js');
  if (!(await addGatewayCredentials(engine, workspace.id, hidden.credentials)))
    throw refuse("the workspace's egress gateway is not running");
  trace('join: keys to the gateway');
  return hidden.env;
}
