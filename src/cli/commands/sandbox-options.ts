/** The options `corral run` and `corral shell` share (commander's shape; toStartInput makes the core's): workspace, env, mounts, image, network. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { StartSandboxInput } from '../../core/index.js';
import { ISOLATIONS, type Isolation } from '../../core/index.js';

export interface RunOptions {
  workdir?: string;
  name?: string;
  env: string[];
  envFile: string[];
  secretEnv: string[];
  yolo?: boolean;
  rm?: boolean;
  detach?: boolean;
  profile?: string;
  pull?: boolean;
  rebuild?: boolean;
  cache?: boolean;
  modelUrl?: string;
  modelKey?: string;
  provider?: string;
  model?: string;
  prompt?: string;
  /** shell: false = always a new container, even if the agent's sandbox is running. */
  join?: boolean;
  mount: string[];
  allowSensitiveMounts?: boolean;
  port?: string[];
  public?: boolean;
  dryRun?: boolean;
  /** false: do not record a transcript of this session. */
  record?: boolean;
  hostSettings?: boolean;
  network?: 'gateway' | 'open' | 'none';
  isolation?: Isolation;
  allow?: string[];
  deny?: string[];
  allowHost?: number[];
  /** Log request and response bodies (redacted) in the egress audit log. */
  logBodies?: boolean;
  /** false: --no-credential-check (skip the workspace scan for this start). */
  credentialCheck?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function collectPort(v: string, prev: number[]): number[] {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('expected a port number (1-65535)');
  return [...prev, n];
}

export function sandboxOptions(cmd: Command): Command {
  return cmd
    .option('-w, --workdir <dir>', 'workspace folder (default: the current folder)')
    .option(
      '-e, --env <KEY[=VALUE]>',
      'pass an env var into the sandbox (KEY alone copies the host value)',
      collect,
      [],
    )
    .option('--env-file <file>', 'read KEY=VALUE lines into the sandbox env', collect, [])
    .option(
      '--secret-env <KEY[@HOST,...]>',
      'with the gateway: the sandbox gets a placeholder for KEY; the gateway sends the real value to HOST only',
      collect,
      [],
    )
    .option('--name <name>', 'container name (default: corral-<workspace>-<agent>)')
    .option('--mount <HOST[:SANDBOX][:rw]>', 'mount a host path (read-only unless :rw)', collect, [])
    .option('--port <[HOST:]SANDBOX>', 'publish a sandbox port on 127.0.0.1', collect, [])
    .option('--public', 'publish --port on all host addresses, not just 127.0.0.1')
    .option(
      '--allow-sensitive-mounts',
      'allow mounts of credential stores such as ~/.ssh or ~/.aws (exposes them to the agent)',
    )
    .option(
      '--profile <name>',
      'login/state profile: a separate state volume (default: default; custom-model with --model-url)',
    )
    .option('--rm', 'remove the container when it exits (default: config auto_remove)')
    .option('--no-rm', 'keep the container after it exits')
    .option('--pull', "pull the agent's configured image before starting")
    .option('--no-pull', 'never pull; use the local image')
    .option('-d, --detach', 'start in the background; `corral attach` later')
    .option('--no-record', 'do not record a transcript of this session')
    .option('--host-settings', 'copy your own settings for the agent (e.g. ~/.claude/settings.json) in')
    .option('--no-host-settings', 'do not copy them, whatever the config says')
    .addOption(
      new Option(
        '--network <mode>',
        'gateway: out only through the egress gateway; open: unfiltered; none',
      ).choices(['gateway', 'open', 'none']),
    )
    .addOption(
      new Option(
        '--isolation <level>',
        "runc: a container; gvisor: gVisor's user-space kernel between the agent and the host's",
      ).choices([...ISOLATIONS]),
    )
    .option(
      '--allow <rule>',
      'with the gateway: allow a domain, host:port or "METHOD host/path"',
      collect,
      [],
    )
    .option('--deny <rule>', 'with the gateway: deny a domain, host:port or "METHOD host/path"', collect, [])
    .option('--allow-host <port>', 'with the gateway: let the sandbox reach this host port', collectPort, [])
    .option(
      '--log-bodies',
      'with the gateway: log request/response bodies (first 64 KiB of text, secrets redacted) in `corral egress log`',
    )
    .option(
      '--no-credential-check',
      'start without scanning the workspace for credentials (masked files stay masked)',
    )
    .option('--dry-run', 'print the podman/docker commands that would do this, and do nothing')
    .option('--rebuild', "rebuild the agent's image layer first")
    .option('--no-cache', 'with --rebuild: build without the engine cache')
    .addOption(
      new Option('--model-url <url>', 'point the agent at this model endpoint (e.g. `corral model serve`)'),
    )
    .addOption(new Option('--model-key <key>', 'API key sent to --model-url').default('corral-scripted'))
    .addOption(
      new Option('--provider <name>', 'point the agent at this provider (`corral provider add`)').conflicts(
        'modelUrl',
      ),
    )
    .option('--model <model>', "with --provider: the model (default: the provider's default)");
}

/** Commander's option bag → the core's input (flag names differ where commander's --no-x shape shows). */
export function toStartInput(o: RunOptions): StartSandboxInput {
  return {
    workdir: o.workdir,
    name: o.name,
    env: o.env,
    envFile: o.envFile,
    ...(o.secretEnv?.length ? { secretEnv: o.secretEnv } : {}),
    mounts: o.mount,
    allowSensitiveMounts: o.allowSensitiveMounts,
    ports: o.port,
    publicPorts: o.public,
    profile: o.profile,
    rm: o.rm,
    detach: o.detach,
    pull: o.pull,
    rebuild: o.rebuild,
    noCache: o.cache === false ? true : undefined,
    modelUrl: o.modelUrl,
    modelKey: o.modelKey,
    provider: o.provider,
    model: o.model,
    prompt: o.prompt,
    yolo: o.yolo,
    join: o.join,
    dryRun: o.dryRun,
    record: o.record,
    hostSettings: o.hostSettings,
    network: o.network,
    allow: o.allow,
    deny: o.deny,
    allowHost: o.allowHost,
    logBodies: o.logBodies,
    credentialCheck: o.credentialCheck,
    isolation: o.isolation,
  };
}
