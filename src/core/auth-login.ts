/**
 * Logins made by the agent's own flow, run in a sandbox on the profile: `corral auth login <agent>`
 * (behind the gateway, in an empty workspace so no project is exposed, its OAuth callback ports
 * forwarded from the host's 127.0.0.1; a brokered login is then moved into corral's store) and
 * `corral auth setup-token` (a long-lived token the flow prints, kept on the host).
 */
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import type { AgentSpec } from '../agents/types.js';
import { dataFile } from '../config/json-store.js';
import { CorralError } from '../errors.js';
import { homeVolumeName, workspaceIdOf } from '../workspace/identity.js';
import { agentProfile } from './auth.js';
import type { CoreContext } from './context.js';
import type { Stdio } from './events.js';
import { startSandbox } from './start/launch.js';
import type { SetupTokenInput, StartSandboxInput } from './types.js';

/** What a caller adds around the sandbox these flows start. */
export interface LoginHooks {
  /** Called just before the sandbox starts (the CLI starts the daemon on demand there, as `run` does). */
  beforeStart?: () => void;
}

async function run(ctx: CoreContext, input: StartSandboxInput, stdio: Stdio, hooks: LoginHooks) {
  hooks.beforeStart?.();
  return (await startSandbox(ctx, input, stdio)).exitCode;
}

/** Run the agent's login on a profile; the exit code of the login command. */
export async function loginAgent(
  ctx: CoreContext,
  input: { agent: string; profile?: string | undefined },
  stdio: Stdio,
  hooks: LoginHooks = {},
): Promise<number> {
  const { agent, profile } = agentProfile(input);
  if (!agent.login) {
    throw new CorralError(
      'BAD_INPUT',
      `corral cannot start ${agent.displayName}'s login by itself.`,
      `Run \`corral run ${agent.name} --profile ${profile}\` and log in there (its login stays in the profile), or \`corral auth import ${agent.name}\`.`,
    );
  }
  const workdir = dataFile('auth/login-workspace');
  await mkdir(workdir, { recursive: true, mode: 0o700 });
  const auth = agent.oauth ? await import('../auth/run.js') : undefined;
  const { authDir } = await import('../auth/paths.js');
  const { readLogin } = await import('../auth/store.js');
  const before = (await readLogin(authDir(agent.name, profile)))?.refreshToken;
  if (agent.login.callbackPorts.length) {
    ctx.note(
      `corral: forwarding 127.0.0.1:${agent.login.callbackPorts.join(', ')} to the sandbox for the login callback.`,
    );
  }
  const code = await run(
    ctx,
    {
      agent: agent.name,
      mode: 'shell',
      args: [...agent.command, ...agent.login.args],
      workdir,
      ports: agent.login.callbackPorts.map(String),
      profile,
      join: false,
      credentialCheck: false,
      network: 'gateway',
    },
    stdio,
    hooks,
  );
  if (!auth || !agent.oauth) return code;
  // The run may have adopted it already (a profile with no login before); otherwise do it now.
  const after = (await readLogin(authDir(agent.name, profile)))?.refreshToken;
  if (after !== undefined && after !== before) return code;
  const { readVolumeFile } = await import('../auth/volume.js');
  const engine = await ctx.engine();
  const { ensureGatewayImage } = await import('../images/gateway.js');
  const { buildSettings } = await import('../sandbox/image.js');
  const image = await ensureGatewayImage(engine, buildSettings(await ctx.config()));
  const home = homeVolumeName({ id: workspaceIdOf(await realpath(workdir)) }, agent.name, profile);
  const text = await readVolumeFile(engine, image, home, agent.oauth.file);
  if (await auth.adopt(agent, profile, text)) {
    ctx.note(`corral: stored the new ${agent.name} login (profile ${profile}); sandboxes get a placeholder.`);
  } else if (code === 0) {
    ctx.note(`corral: no new ${agent.name} login was saved in profile ${profile}.`);
  }
  return code;
}

type TokenAgent = AgentSpec & { setupToken: NonNullable<AgentSpec['setupToken']> };

function tokenAgent(agent: AgentSpec): TokenAgent {
  if (!agent.setupToken) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no long-lived token flow corral knows of.`,
      `Pass a key instead (-e ${agent.authEnv[0] ?? 'KEY'}) or log in with \`corral auth login ${agent.name}\`.`,
    );
  }
  return agent as TokenAgent;
}

/** The last token-shaped word in terminal output (colours and cursor moves removed first). */
export function pickToken(output: string, pattern: string): string | undefined {
  return stripVTControlCharacters(output).match(new RegExp(pattern, 'g'))?.at(-1);
}

/** Passes the sandbox's output through to the caller's stdout and keeps a copy. */
class Tee extends Writable {
  readonly seen: Buffer[] = [];
  readonly isTTY: boolean | undefined;
  constructor(private readonly out: Stdio['stdout']) {
    super();
    this.isTTY = out.isTTY;
  }
  get rows() {
    return this.out.rows;
  }
  get columns() {
    return this.out.columns;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.seen.push(Buffer.from(chunk));
    this.out.write(chunk, cb);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

/** The agent's own flow prints the token; corral picks it out of the output (or reads it from stdin). */
async function obtainToken(
  ctx: CoreContext,
  agent: TokenAgent,
  profile: string,
  fromStdin: boolean,
  stdio: Stdio,
  hooks: LoginHooks,
): Promise<string> {
  const pattern = new RegExp(agent.setupToken.pattern);
  const flow = agent.setupToken.command.join(' ');
  if (fromStdin) {
    const text = (await readAll(stdio.stdin)).trim();
    if (!pattern.test(text) || pattern.exec(text)?.[0] !== text) {
      throw new CorralError(
        'BAD_INPUT',
        `That is not a ${agent.displayName} token (expected the shape ${agent.setupToken.pattern}).`,
        `Pipe in exactly what \`${flow}\` printed.`,
      );
    }
    return text;
  }
  if (!stdio.stdin.isTTY) {
    throw new CorralError(
      'BAD_INPUT',
      `\`${flow}\` needs a terminal: it shows a sign-in link and asks for a code.`,
      'Run it in a terminal, or pipe a token you already have: corral auth setup-token claude --stdin',
    );
  }
  ctx.note(`corral: running \`${flow}\` in a sandbox on profile ${profile}…`);
  const tee = new Tee(stdio.stdout);
  // A throwaway workspace on the agent's profile (behind the gateway).
  const dir = await mkdtemp(join(tmpdir(), 'corral-auth-'));
  let code: number;
  try {
    code = await run(
      ctx,
      {
        agent: agent.name,
        mode: 'shell',
        args: agent.setupToken.command,
        workdir: dir,
        profile,
        rm: true,
        join: false,
        record: false,
        credentialCheck: false,
        hostSettings: false,
      },
      { ...stdio, stdout: tee },
      hooks,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const found = pickToken(Buffer.concat(tee.seen).toString('utf8'), agent.setupToken.pattern);
  if (!found) {
    throw new CorralError(
      'AUTH_FAILED',
      `No token came out of \`${flow}\` (it exited with ${code}).`,
      `If it printed one, store it with: corral auth setup-token ${agent.name} --stdin < file`,
    );
  }
  return found;
}

export type SetupTokenResult =
  | { kind: 'removed'; agent: string; profile: string; had: boolean }
  | {
      kind: 'stored';
      agent: string;
      profile: string;
      /** The token with most of it hidden, for people. */
      masked: string;
      /** Where it is kept: the keyring's name, or 'a 0600 file'. */
      where: string;
      /** The variable later runs set from it. */
      env: string;
    };

const masked = (token: string) => `${token.slice(0, 13)}…${token.slice(-4)} (${token.length} characters)`;

/** Get (or, with `remove`, forget) the profile's long-lived token. */
export async function setupToken(
  ctx: CoreContext,
  input: SetupTokenInput,
  stdio: Stdio,
  hooks: LoginHooks = {},
): Promise<SetupTokenResult> {
  const { agent: spec } = agentProfile({ agent: input.agent });
  const agent = tokenAgent(spec);
  // As before this module: the profile name is only a key in the token store here.
  const profile = input.profile ?? 'default';
  const { detectKeyring } = await import('../auth/keyring.js');
  const { removeStoredToken, storeToken } = await import('../auth/token.js');
  const keyring = detectKeyring(ctx.env);
  if (input.remove) {
    return {
      kind: 'removed',
      agent: agent.name,
      profile,
      had: await removeStoredToken(agent.name, profile, keyring),
    };
  }
  const token = await obtainToken(ctx, agent, profile, Boolean(input.stdin), stdio, hooks);
  const where = await storeToken(agent.name, profile, token, keyring);
  return {
    kind: 'stored',
    agent: agent.name,
    profile,
    masked: masked(token),
    where: where === 'keyring' ? (keyring?.name ?? 'the keyring') : 'a 0600 file',
    env: agent.setupToken.env,
  };
}
