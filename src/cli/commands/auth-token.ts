/**
 * `corral auth setup-token` (a long-lived token from the agent's own flow, kept on the host) and
 * `corral auth doctor` (which credential would be used, and does it work).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import type { Command } from 'commander';
import { resolveAgent } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import { loginExposure } from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { buildEnv } from '../../sandbox/env.js';
import { Context } from '../context.js';
import { start } from './run.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** A run of `command` in a throwaway workspace on the agent's profile (behind the gateway). */
async function inSandbox(
  ctx: Context,
  agent: AgentSpec,
  profile: string,
  command: string[],
  io: Context['io'],
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-auth-'));
  try {
    return await start(new Context(ctx.globals, ctx.env, io), {
      agent: agent.name,
      mode: 'shell',
      args: command,
      workdir: dir,
      profile,
      rm: true,
      join: false,
      record: false,
      credentialCheck: false,
      hostSettings: false,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Passes the sandbox's output through to the terminal and keeps a copy. */
class Tee extends Writable {
  readonly seen: Buffer[] = [];
  readonly isTTY = process.stdout.isTTY;
  get rows() {
    return process.stdout.rows;
  }
  get columns() {
    return process.stdout.columns;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.seen.push(Buffer.from(chunk));
    process.stdout.write(chunk, cb);
  }
}

const masked = (token: string) => `${token.slice(0, 13)}…${token.slice(-4)} (${token.length} characters)`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

function tokenAgent(name: string): AgentSpec & { setupToken: NonNullable<AgentSpec['setupToken']> } {
  const agent = resolveAgent(name);
  if (!agent.setupToken) {
    throw new CorralError(
      'BAD_INPUT',
      `${agent.displayName} has no long-lived token flow corral knows of.`,
      `Pass a key instead (-e ${agent.authEnv[0] ?? 'KEY'}) or log in with \`corral auth login ${agent.name}\`.`,
    );
  }
  return agent as AgentSpec & { setupToken: NonNullable<AgentSpec['setupToken']> };
}

/** The last token-shaped word in terminal output (colours and cursor moves removed first). */
export function pickToken(output: string, pattern: string): string | undefined {
  return stripVTControlCharacters(output).match(new RegExp(pattern, 'g'))?.at(-1);
}

/** The agent's own flow prints the token; corral picks it out of the output (or asks for it). */
async function obtainToken(
  ctx: Context,
  agent: ReturnType<typeof tokenAgent>,
  profile: string,
  fromStdin: boolean,
) {
  const pattern = new RegExp(agent.setupToken.pattern);
  if (fromStdin) {
    const text = (await readAll(process.stdin)).trim();
    if (!pattern.test(text) || pattern.exec(text)?.[0] !== text) {
      throw new CorralError(
        'BAD_INPUT',
        `That is not a ${agent.displayName} token (expected the shape ${agent.setupToken.pattern}).`,
        `Pipe in exactly what \`${agent.setupToken.command.join(' ')}\` printed.`,
      );
    }
    return text;
  }
  if (!process.stdin.isTTY) {
    throw new CorralError(
      'BAD_INPUT',
      `\`${agent.setupToken.command.join(' ')}\` needs a terminal: it shows a sign-in link and asks for a code.`,
      'Run it in a terminal, or pipe a token you already have: corral auth setup-token claude --stdin',
    );
  }
  ctx.note(`corral: running \`${agent.setupToken.command.join(' ')}\` in a sandbox on profile ${profile}…`);
  const tee = new Tee();
  const code = await inSandbox(ctx, agent, profile, agent.setupToken.command, { ...ctx.io, stdout: tee });
  const found = pickToken(Buffer.concat(tee.seen).toString('utf8'), agent.setupToken.pattern);
  if (!found) {
    throw new CorralError(
      'AUTH_FAILED',
      `No token came out of \`${agent.setupToken.command.join(' ')}\` (it exited with ${code}).`,
      `If it printed one, store it with: corral auth setup-token ${agent.name} --stdin < file`,
    );
  }
  return found;
}

export function addTokenCommands(auth: Command): void {
  auth
    .command('setup-token')
    .description("get a long-lived token with the agent's own flow and use it on later runs")
    .argument('<agent>', 'agent name or alias (claude)')
    .option('--profile <name>', 'profile to store it for', 'default')
    .option('--stdin', 'read a token you already have from stdin instead of running the flow')
    .option('--remove', 'forget the stored token')
    .addHelpText(
      'after',
      '\nThe token is kept in the OS keyring where one answers (secret-tool), else in a 0600 file in\n' +
        "corral's data folder. Behind the gateway the sandbox only ever sees a placeholder.\n" +
        'Precedence: a key you pass (-e, env files, config env) > the stored token > the login in the profile.',
    )
    .action(
      async (name: string, opts: { profile: string; stdin?: boolean; remove?: boolean }, cmd: Command) => {
        const ctx = Context.of(cmd);
        const agent = tokenAgent(name);
        const { detectKeyring } = await import('../../auth/keyring.js');
        const { removeStoredToken, storeToken } = await import('../../auth/token.js');
        const keyring = detectKeyring(ctx.env);
        if (opts.remove) {
          const had = await removeStoredToken(agent.name, opts.profile, keyring);
          ctx.note(had ? `forgot the ${agent.name} token of profile ${opts.profile}` : 'no token was stored');
          return;
        }
        const token = await obtainToken(ctx, agent, opts.profile, Boolean(opts.stdin));
        const where = await storeToken(agent.name, opts.profile, token, keyring);
        ctx.note(
          `stored ${masked(token)} for ${agent.name} profile ${opts.profile} in ${where === 'keyring' ? keyring?.name : 'a 0600 file'}; later runs use it as ${agent.setupToken.env}`,
        );
      },
    );
}

export function addDoctorCommand(auth: Command): void {
  auth
    .command('doctor')
    .description(
      'which credential an agent would use, and whether it works (exit 0 ok, 1 missing/refreshable, 2 broken); without an agent, every kept login and what it exposes inside the sandbox',
    )
    .argument('[agent]', 'agent name or alias (none: list every login and what it exposes)')
    .option('--profile <name>', 'profile', 'default')
    .option('-e, --env <KEY[=VAL]>', 'a key as `corral run -e` would pass it (repeatable)', collect, [])
    .option('--env-file <file>', 'env file as `corral run --env-file` (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(
      async (
        name: string | undefined,
        opts: { profile: string; env: string[]; envFile: string[]; json?: boolean },
        cmd: Command,
      ) => {
        const ctx = Context.of(cmd);
        if (name === undefined) return exposures(ctx, opts.profile, Boolean(opts.json));
        const agent = resolveAgent(name);
        const config = await ctx.config(process.cwd());
        const env = await buildEnv({
          agentDefaults: {},
          global: config.env,
          perAgent: config.agents[agent.name]?.env,
          envFiles: opts.envFile,
          flags: opts.env,
          host: ctx.env,
        });
        const { detectKeyring } = await import('../../auth/keyring.js');
        const { readStoredToken } = await import('../../auth/token.js');
        const { diagnose } = await import('../../auth/doctor.js');
        const token = agent.setupToken
          ? await readStoredToken(agent.name, opts.profile, detectKeyring(ctx.env))
          : undefined;
        const brokered = agent.oauth ? await brokeredLogin(agent, opts.profile) : undefined;
        const report = await diagnose({
          agent,
          profile: opts.profile,
          env,
          ...(token ? { token } : {}),
          ...(brokered ? { brokered } : {}),
          loginState: () => loginState(ctx, agent, opts.profile),
        });
        if (opts.json) ctx.json(report);
        else {
          ctx.print(`${agent.name} (profile ${report.profile}): ${report.credential}`);
          ctx.print(`  ${report.status}: ${report.detail}`);
        }
        process.exitCode = report.exitCode;
      },
    );
}

async function brokeredLogin(agent: AgentSpec, profile: string) {
  const { authDir } = await import('../../auth/paths.js');
  const { readLogin } = await import('../../auth/store.js');
  const login = await readLogin(authDir(agent.name, profile));
  return login ? { expiresAt: login.expiresAt, refreshable: Boolean(login.refreshToken) } : undefined;
}

async function loginState(ctx: Context, agent: AgentSpec, profile: string) {
  if (!agent.loginFiles.length) return [];
  if (agent.oauth) return workspaceLoginState(ctx, agent, profile);
  // The profile's login lives in corral's store; workspace homes hold copies of it.
  const [{ readLoginFiles }, { loginFileState }] = await Promise.all([
    import('../../auth/login-files.js'),
    import('../../auth/login-state.js'),
  ]);
  const files = await readLoginFiles(agent.name, profile);
  return agent.loginFiles.map((file) => loginFileState(file, files[file]));
}

/**
 * A brokered agent's login made with --network open|none is not moved to the store (nothing could
 * inject it): it stays in the home of the workspace it was made in, this folder's for doctor.
 */
async function workspaceLoginState(ctx: Context, agent: AgentSpec, profile: string) {
  const [{ homeVolumeName, resolveWorkspace }, { readVolumeFile }, { loginFileState }, { helperEngine }] =
    await Promise.all([
      import('../../workspace/identity.js'),
      import('../../auth/volume.js'),
      import('../../auth/login-state.js'),
      import('./auth.js'),
    ]);
  const ws = await resolveWorkspace(ctx.cwd).catch(() => undefined);
  if (!ws) return [];
  const engine = await ctx.engine();
  const volume = homeVolumeName(ws, agent.name, profile);
  if (!(await engine.volumeExists(volume))) return [];
  const { image } = await helperEngine(ctx);
  const out = [];
  for (const file of agent.loginFiles)
    out.push(loginFileState(file, await readVolumeFile(engine, image, volume, file)));
  return out;
}

/** Every login corral keeps for the profile: brokered (placeholders only) or copied in as it is. */
async function exposures(ctx: Context, profile: string, json: boolean): Promise<void> {
  const rows = await loginExposure(ctx, { profile });
  if (json) return ctx.json(rows);
  if (!rows.length) return ctx.note(`no logins kept for profile ${profile}`);
  for (const r of rows) {
    const left = r.expiresAt ? `, expires ${new Date(r.expiresAt).toISOString()}` : '';
    ctx.print(`${r.agent} (profile ${r.profile}): ${r.brokered ? 'brokered' : 'NOT brokered'}${left}`);
    ctx.print(
      `  files: ${r.files.map((f) => `~/${f}`).join(', ')}${r.refreshToken ? ' (with a refresh token)' : ''}`,
    );
    ctx.print(`  exposes: ${r.exposes}`);
    if (!r.brokered) ctx.print(`  broker: ${r.broker}`);
  }
}
