/**
 * One start, once the agent is known (launch.ts resolves it and any worktree): config and project,
 * the credential scan, the image and the plan, printed with dryRun; run-planned.ts starts it.
 */
import { randomUUID } from 'node:crypto';
import { sessionArgs } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { hostAlias } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import type { Stdio } from '../../sandbox/attach.js';
import { dryRunFor } from '../../sandbox/dry-run.js';
import { type ProjectImage, plannedImage, resolveRunImage } from '../../sandbox/image.js';
import { isolationFor } from '../../sandbox/isolation.js';
import { readMasks } from '../../sandbox/masks.js';
import { planSandbox } from '../../sandbox/plan.js';
import { trace } from '../../trace.js';
import { resolveWorkspace, sessionId } from '../../workspace/identity.js';
import { hostUser, planUser } from '../../workspace/userns.js';
import { withAcpAdapter } from '../acp/agent.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput, StartSandboxResult } from '../types.js';
import { gatewayDryRun, lingeringPlaceholders, sandboxNetwork } from './gateway.js';
import { joinRunning } from './join.js';
import type { StartHooks } from './launch.js';
import { planMcpServers } from './mcp.js';
import { checkEndpointOptions, endpointAndPrompt, profileFor, providerEndpoint } from './provider.js';
import { checkRemoteSupport } from './remote-limits.js';
import { runPlanned } from './run-planned.js';
import { checkCredentials } from './scan.js';
import { storedTokenFor, withSkills } from './support.js';

/** A detached or dry run needs no stdio; the rest read and write the caller's. */
const NO_STDIO = (): never => {
  throw new CorralError('BAD_INPUT', 'An attached start needs a terminal or streams to attach to.');
};

export async function launch(
  ctx: CoreContext,
  agent: AgentSpec,
  given: StartSandboxInput & { workdir: string },
  stdio: Stdio | undefined,
  hooks: StartHooks,
): Promise<StartSandboxResult> {
  trace('cli parsed');
  let opts = given;
  const mode = opts.mode ?? 'agent';
  if (opts.resume && !agent.resumeArgs) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no flag corral knows for continuing its last session.`,
      agent.notes.join(' ') || undefined,
    );
  }
  // The session lives in the agent's home volume (per workspace and profile), so it is there to resume.
  const args = [...(opts.resume && mode === 'agent' ? (agent.resumeArgs ?? []) : []), ...(opts.args ?? [])];
  const io = () => stdio ?? NO_STDIO();
  let agentSession: string | undefined;
  const exited = (exitCode: number): StartSandboxResult => ({
    kind: 'exited',
    exitCode,
    ...(agentSession ? { agentSession } : {}),
  });
  const workspace = await resolveWorkspace(opts.workdir);
  const loaded = await ctx.loadedConfig(workspace.path);
  const config = loaded.config;
  const project = loaded.project;
  if (project && !project.trusted && project.skipped.length) {
    ctx.note(
      `corral: ignoring from untrusted ${project.path}: ${project.skipped.join('; ')}. Run \`corral trust\` here to allow them.`,
    );
  }
  if (project?.devcontainer?.unsupported.length) {
    ctx.note(
      `corral: not supported from ${project.devcontainer.path}: ${project.devcontainer.unsupported.join(', ')}`,
    );
  }
  const projectImage: ProjectImage = {
    workspace: { path: workspace.path, id: workspace.id },
    ...(project?.containerfile ? { containerfile: project.containerfile } : {}),
    ...(project?.devcontainer ? { devcontainer: project.devcontainer } : {}),
  };
  trace('config');
  const engine = await ctx.engine();
  trace('engine');
  // A shell joining a running sandbox brings its keys in as placeholders, as a fresh run does (join.ts).
  if (mode === 'shell' && opts.join !== false && !opts.detach && !opts.name) {
    const joined = await joinRunning(ctx, engine, agent, workspace, config, args, opts, io);
    if (joined !== undefined) return exited(joined);
  }
  // Bad endpoint options fail before the credential scan, which may ask questions.
  checkEndpointOptions(opts);
  // What a remote engine cannot do is refused before anything is created there.
  checkRemoteSupport(engine, config, opts, isolationFor(config, agent.name, opts.isolation));
  const [alias, netMode, remote] = [hostAlias(engine.kind), opts.network ?? config.network, engine.remote];
  // A named provider becomes this run's model URL; its key stays on the host behind the gateway.
  const provider = opts.provider ? await providerEndpoint(agent, opts, netMode, alias, remote) : undefined;
  if (provider) opts = { ...opts, modelUrl: provider.url, modelKey: provider.apiKey };
  const masks = await readMasks(workspace);
  const maskedFiles = await checkCredentials(ctx, workspace, config, {
    ...opts,
    maskDirs: [...(config.masks ?? []), ...masks],
  });
  // The config's MCP servers, handed to the agent beside the bridge (secrets as placeholders).
  const mcp = planMcpServers(config, ctx.env, netMode, alias, (l) => ctx.note(l), remote);
  const { endpoint, promptArgs: rendered } = endpointAndPrompt(agent, opts, provider?.model, alias, remote);
  let promptArgs = rendered;
  // The agent's own conversation: reopened, or named by corral so `corral resume` can find it.
  if (mode === 'agent') {
    if (opts.resumeSession) {
      const ownForm = opts.prompt ? agent.session?.headlessResumeArgs : undefined;
      if (!agent.session || (opts.prompt && !agent.session.headlessResume && !ownForm)) {
        throw new CorralError(
          'BAD_INPUT',
          `corral cannot reopen a ${agent.displayName} conversation${opts.prompt && agent.session ? ' with a headless prompt' : ''}.`,
          agent.session ? 'Resume it interactively (without -p).' : undefined,
        );
      }
      agentSession = opts.resumeSession;
      const id = agentSession;
      promptArgs = ownForm
        ? ownForm.map((a) => a.replaceAll('{sessionId}', id).replaceAll('{prompt}', opts.prompt ?? ''))
        : [...(sessionArgs(agent, 'resume', agentSession) ?? []), ...promptArgs];
    } else if (agent.session?.assignArgs && !opts.dryRun && !args.length) {
      // Only for the agent's own conversation: extra args may name a subcommand (`claude mcp list`).
      agentSession = randomUUID();
      promptArgs = [...(sessionArgs(agent, 'assign', agentSession) ?? []), ...promptArgs];
    }
  }
  const planned = opts.dryRun
    ? await plannedImage(agent, config, projectImage)
    : await resolveRunImage(
        engine,
        agent,
        config,
        {
          ...(opts.pull !== undefined ? { pull: opts.pull } : {}),
          ...(opts.rebuild ? { rebuild: true } : {}),
          ...(opts.noCache ? { noCache: true } : {}),
          progress: ctx.events.progress(),
        },
        projectImage,
      );
  const image = opts.acp ? await withAcpAdapter(engine, planned, agent, config, opts, ctx) : planned;
  trace('image');
  const network = await sandboxNetwork(ctx, engine, workspace, config, opts);
  const served = await lingeringPlaceholders(engine, workspace, network, opts);
  // Endpoint config files go into the agent's home; a separate profile keeps them away from a real login.
  const profile = profileFor(opts);
  const storedToken = await storedTokenFor(agent, profile, ctx.env);
  const spec = await planSandbox(
    {
      network,
      agent,
      workspace,
      image,
      engine: engine.kind,
      user: planUser(engine, hostUser()),
      session: sessionId(),
      mode,
      args: [...promptArgs, ...args],
      headless: Boolean(opts.prompt),
      ...(opts.name ? { name: opts.name } : {}),
      profile,
      ...(storedToken ? { storedToken } : {}),
      env: opts.env ?? [],
      envFiles: opts.envFile ?? [],
      ...(opts.secretEnv?.length ? { secretEnv: opts.secretEnv } : {}),
      ...(opts.yolo !== undefined ? { yolo: opts.yolo } : {}),
      ...(opts.rm !== undefined ? { rm: opts.rm } : {}),
      detach: opts.detach ?? false,
      stdinIsTTY: Boolean(stdio?.stdin.isTTY) && !opts.prompt,
      ...(endpoint ? { endpoint } : {}),
      endpointCredentials: [...(provider?.credential ? [provider.credential] : []), ...mcp.credentials],
      ...(served ? { servedPlaceholders: served } : {}),
      host: ctx.env,
      mounts: opts.mounts ?? [],
      ports: opts.ports ?? [],
      masks,
      maskedFiles,
      ...(project?.devcontainer ? { devcontainer: project.devcontainer } : {}),
      ...(opts.publicPorts ? { publicPorts: true } : {}),
      ...(opts.hostSettings !== undefined ? { hostSettings: opts.hostSettings } : {}),
      ...(opts.allowSensitiveMounts ? { allowSensitiveMounts: true } : {}),
      ...(opts.isolation ? { isolation: opts.isolation } : {}),
    },
    config,
  );
  await withSkills(ctx, agent, spec);
  if (opts.dryRun) {
    const gw =
      spec.network.mode === 'gateway'
        ? await gatewayDryRun(engine, agent, workspace, config, opts, spec)
        : { before: [], after: [] };
    const lines = (await engine.imageExists(image))
      ? []
      : [`# build the image first: corral image build ${agent.name}`];
    // Not runnable as they stand there: the engine's machine has copies of these folders, not them.
    if (engine.remote)
      lines.unshift(
        `# ${engine.kind} on ${engine.remote}: corral uploads the folders these commands mount and runs the containers there, through its SSH connection (paths below are this machine's)`,
      );
    lines.push(...gw.before, ...dryRunFor(engine.kind, spec), ...gw.after);
    return { kind: 'dry-run', exitCode: 0, lines };
  }
  return runPlanned({
    ctx,
    engine,
    agent,
    workspace,
    config,
    opts,
    spec,
    mcpServers: mcp.servers,
    stdio,
    io,
    hooks,
    exited,
  });
}
