import { Command, Option } from 'commander';
import { renderEndpoint, resolveAgent } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { hostAlias } from '../../engine/index.js';
import { CorralError } from '../../errors.js';
import { consoleProgress } from '../../images/build.js';
import { dryRunFor } from '../../sandbox/dry-run.js';
import { resolveWorkspace, sessionId } from '../../sandbox/identity.js';
import { type ProjectImage, plannedImage, resolveRunImage } from '../../sandbox/image.js';
import { readMasks } from '../../sandbox/masks.js';
import { planSandbox } from '../../sandbox/plan.js';
import { hostUser, planUser } from '../../sandbox/userns.js';
import { trace } from '../../trace.js';
import { Context } from '../context.js';
import { planRunLogin } from './run-auth.js';
import { planRunBridge, startRunBridge } from './run-bridge.js';
import { gatewayDryRun, releaseRunGateway, sandboxNetwork, startGateway } from './run-gateway.js';
import { type RunOptions, sandboxOptions } from './run-options.js';
import { checkCredentials } from './run-scan.js';
import { startRunServices, stopRunServices } from './run-services.js';
import { runAttachedWithSidecars, runDetached } from './run-start.js';
import { joinRunning, sandboxModelUrl, storedTokenFor } from './run-support.js';

export function runCommand(): Command {
  return sandboxOptions(
    new Command('run')
      .description('run an agent in a sandbox on the current folder')
      .argument('[agent]', 'agent name or alias (see `corral agents`); default: config default_agent')
      .argument('[args...]', 'arguments for the agent, after --'),
  )
    .option('--yolo', "turn on the agent's own autonomy mode (e.g. --dangerously-skip-permissions)")
    .addOption(new Option('--ikwid', 'alias of --yolo').hideHelp())
    .option('-p, --prompt <text>', 'run one headless prompt and exit (agents with a headless mode)')
    .action(
      async (
        agentName: string | undefined,
        args: string[],
        opts: RunOptions & { ikwid?: boolean },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        const agent = resolveAgent(agentName ?? (await defaultAgent(ctx, opts.workdir)));
        process.exitCode = await launch(ctx, agent, 'agent', args, {
          ...opts,
          yolo: opts.yolo || opts.ikwid ? true : undefined,
        });
      },
    );
}

export function shellCommand(): Command {
  return sandboxOptions(
    new Command('shell')
      .description("open a shell (or run a command) in an agent's sandbox instead of the agent")
      .argument('<agent>', 'agent name or alias')
      .argument('[command...]', 'command to run instead of a shell, after --'),
  )
    .option('--no-join', "start a new container even if the agent's sandbox is already running here")
    .action(async (agentName: string, command: string[], opts: RunOptions, cmd: Command) => {
      const ctx = Context.of(cmd);
      process.exitCode = await launch(ctx, resolveAgent(agentName), 'shell', command, opts);
    });
}

async function defaultAgent(ctx: Context, workdir: string | undefined): Promise<string> {
  const workspace = await resolveWorkspace(workdir ?? process.cwd());
  const name = (await ctx.config(workspace.path)).default_agent;
  if (!name) {
    throw new CorralError(
      'BAD_INPUT',
      'Which agent?',
      'Name one (`corral run claude`; see `corral agents`) or set default_agent in config or .corral.yaml.',
    );
  }
  return name;
}

export async function launch(
  ctx: Context,
  agent: AgentSpec,
  mode: 'agent' | 'shell',
  args: string[],
  opts: RunOptions,
): Promise<number> {
  trace('cli parsed');
  const workspace = await resolveWorkspace(opts.workdir ?? process.cwd());
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
  if (mode === 'shell' && opts.join !== false && !opts.detach && !opts.name) {
    const joined = await joinRunning(ctx, engine, agent, workspace, args, opts);
    if (joined !== undefined) return joined;
  }
  const masks = await readMasks(workspace);
  const maskedFiles = await checkCredentials(ctx, workspace, config, {
    ...opts,
    maskDirs: [...(config.masks ?? []), ...masks],
  });
  let endpoint: { env: Record<string, string>; files: Record<string, string>; args: string[] } | undefined;
  let promptArgs: string[] = [];
  if (opts.modelUrl || opts.prompt) {
    if (!agent.endpoint) {
      throw new CorralError(
        'BAD_INPUT',
        `${agent.displayName} cannot be pointed at a custom model endpoint or given a headless prompt by corral.`,
        agent.notes.join(' ') || undefined,
      );
    }
    const rendered = renderEndpoint(agent, {
      baseUrl: opts.modelUrl ? sandboxModelUrl(opts.modelUrl, hostAlias(engine.kind)) : '',
      apiKey: opts.modelKey ?? 'corral-scripted',
      ...(opts.prompt ? { prompt: opts.prompt } : {}),
    });
    if (opts.modelUrl) endpoint = { env: rendered.env, files: rendered.files, args: rendered.args };
    if (opts.prompt) promptArgs = rendered.promptArgs;
  }
  const progress = consoleProgress(process.stderr);
  const image = opts.dryRun
    ? await plannedImage(agent, config, projectImage)
    : await resolveRunImage(
        engine,
        agent,
        config,
        {
          ...(opts.pull !== undefined ? { pull: opts.pull } : {}),
          ...(opts.rebuild ? { rebuild: true } : {}),
          ...(opts.cache === false ? { noCache: true } : {}),
          progress,
        },
        projectImage,
      );
  trace('image');
  const network = await sandboxNetwork(engine, workspace, config, opts);
  // Endpoint config files go into the agent's home; a separate profile keeps them away from a real login.
  const profile =
    opts.modelUrl && (opts.profile ?? 'default') === 'default' ? 'custom-model' : (opts.profile ?? 'default');
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
      env: opts.env,
      envFiles: opts.envFile,
      ...(opts.yolo !== undefined ? { yolo: opts.yolo } : {}),
      ...(opts.rm !== undefined ? { rm: opts.rm } : {}),
      detach: opts.detach ?? false,
      stdinIsTTY: Boolean(process.stdin.isTTY) && !opts.prompt,
      ...(endpoint ? { endpoint } : {}),
      host: ctx.env,
      mounts: opts.mount ?? [],
      ports: opts.port ?? [],
      masks,
      maskedFiles,
      ...(project?.devcontainer ? { devcontainer: project.devcontainer } : {}),
      ...(opts.public ? { publicPorts: true } : {}),
      ...(opts.hostSettings !== undefined ? { hostSettings: opts.hostSettings } : {}),
      ...(opts.allowSensitiveMounts ? { allowSensitiveMounts: true } : {}),
      ...(opts.isolation ? { isolation: opts.isolation } : {}),
    },
    config,
  );
  const login = opts.dryRun ? undefined : await planRunLogin(ctx, engine, agent, spec, config);
  // The bridge's wiring (agent config, token) goes into the spec before the sandbox is created.
  const bridgePlan = opts.dryRun ? undefined : planRunBridge(agent, spec, (line) => ctx.note(line));
  if (opts.dryRun) {
    const gw =
      spec.network.mode === 'gateway'
        ? await gatewayDryRun(engine, agent, workspace, config, opts, spec)
        : { before: [], after: [] };
    if (!(await engine.imageExists(image)))
      ctx.print(`# build the image first: corral image build ${agent.name}`);
    for (const line of [...gw.before, ...dryRunFor(engine.kind, spec), ...gw.after]) ctx.print(line);
    return 0;
  }
  // Behind the gateway, the run's lease is dropped when it ends (or fails), which stops the
  // gateway if no other sandbox of the workspace still uses it.
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      await stopRunServices(engine, workspace, spec);
      await releaseRunGateway(engine, workspace, spec);
    })();
    return released;
  };
  // The gateway, the run's services and its host bridge: an attached sandbox is created (and, on
  // Podman, its runtime set up) while they come up, and starts once they are.
  const sidecars = async () => {
    if (spec.network.mode === 'gateway') {
      await startGateway(engine, agent, workspace, config, opts, spec, login?.brokered);
      trace('gateway');
    }
    const services = await startRunServices(engine, workspace, config, spec, (line) => ctx.note(line));
    const bridge = await startRunBridge(agent, workspace, spec, bridgePlan, {
      engine,
      io: ctx.io,
      approvalTimeoutS: config.approval_timeout,
      note: (line) => ctx.note(line),
      services,
    });
    trace('bridge');
    return bridge;
  };
  try {
    // A published port's relay is planned by the gateway's start, and the sandbox mounts its folder.
    if (spec.detached || spec.ports.length) {
      const bridge = await sidecars();
      if (spec.detached) return await runDetached(ctx, engine, agent, spec, bridge);
      return await runAttachedWithSidecars(
        ctx,
        engine,
        spec,
        config,
        opts,
        login,
        Promise.resolve(bridge),
        release,
      );
    }
    const bridging = sidecars();
    // Awaited below (and after any failure): no rejection goes unhandled meanwhile.
    bridging.catch(() => {});
    return await runAttachedWithSidecars(ctx, engine, spec, config, opts, login, bridging, release);
  } finally {
    await release();
  }
}
