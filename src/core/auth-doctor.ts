/**
 * `corral auth doctor`: which credential an agent would use (by the documented precedence), and
 * whether it works. The report's exitCode: 0 works, 1 missing or expired but refreshable, 2 broken.
 */
import { resolveAgent } from '../agents/index.js';
import type { AgentSpec } from '../agents/types.js';
import type { DoctorReport } from '../auth/doctor.js';
import { buildEnv } from '../sandbox/env.js';
import { helperEngine } from './auth.js';
import type { CoreContext } from './context.js';
import type { AuthDoctorInput } from './types.js';

export type { DoctorReport };

export async function authDoctor(ctx: CoreContext, input: AuthDoctorInput): Promise<DoctorReport> {
  const agent = resolveAgent(input.agent);
  const profile = input.profile ?? 'default';
  const workdir = input.workdir ?? ctx.cwd;
  const config = await ctx.config(workdir);
  const env = await buildEnv({
    agentDefaults: {},
    global: config.env,
    perAgent: config.agents[agent.name]?.env,
    envFiles: input.envFile ?? [],
    flags: input.env ?? [],
    host: ctx.env,
  });
  const { detectKeyring } = await import('../auth/keyring.js');
  const { readStoredToken } = await import('../auth/token.js');
  const { diagnose } = await import('../auth/doctor.js');
  const token = agent.setupToken
    ? await readStoredToken(agent.name, profile, detectKeyring(ctx.env))
    : undefined;
  const brokered = agent.oauth ? await brokeredLogin(agent, profile) : undefined;
  return diagnose({
    agent,
    profile,
    env,
    ...(token ? { token } : {}),
    ...(brokered ? { brokered } : {}),
    loginState: () => loginState(ctx, agent, profile, workdir),
  });
}

async function brokeredLogin(agent: AgentSpec, profile: string) {
  const { authDir } = await import('../auth/paths.js');
  const { readLogin } = await import('../auth/store.js');
  const login = await readLogin(authDir(agent.name, profile));
  return login ? { expiresAt: login.expiresAt, refreshable: Boolean(login.refreshToken) } : undefined;
}

async function loginState(ctx: CoreContext, agent: AgentSpec, profile: string, workdir: string) {
  if (!agent.loginFiles.length) return [];
  if (agent.oauth) return workspaceLoginState(ctx, agent, profile, workdir);
  // The profile's login lives in corral's store; workspace homes hold copies of it.
  const [{ readLoginFiles }, { loginFileState }] = await Promise.all([
    import('../auth/login-files.js'),
    import('../auth/login-state.js'),
  ]);
  const files = await readLoginFiles(agent.name, profile);
  return agent.loginFiles.map((file) => loginFileState(file, files[file]));
}

/**
 * A brokered agent's login made with --network open|none is not moved to the store (nothing could
 * inject it): it stays in the home of the workspace it was made in, this folder's for doctor.
 */
async function workspaceLoginState(ctx: CoreContext, agent: AgentSpec, profile: string, workdir: string) {
  const [{ homeVolumeName, resolveWorkspace }, { readVolumeFile }, { loginFileState }] = await Promise.all([
    import('../workspace/identity.js'),
    import('../auth/volume.js'),
    import('../auth/login-state.js'),
  ]);
  const ws = await resolveWorkspace(workdir).catch(() => undefined);
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
