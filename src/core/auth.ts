/**
 * The logins of each agent and profile (`corral auth import|list|logout`, the daemon's auth routes).
 * Brokered OAuth logins (Claude, Codex) live in corral's host store and reach the sandbox only as
 * placeholders; other agents' logins live in the profile's state volume.
 */
import { resolveAgent } from '../agents/index.js';
import type { ImportResult, LogoutResult, ProfileStatus } from '../auth/manage.js';
import { DEFAULT_PROFILE, validateProfile } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { AuthImportInput, AuthProfileInput } from './types.js';

export type { ProfileStatus };
export { DEFAULT_PROFILE };

const manage = () => import('../auth/manage.js');

/** The engine, and a small image for helper containers that read or change a state volume. */
export async function helperEngine(ctx: CoreContext) {
  const engine = await ctx.engine();
  // The gateway image runs the helper containers that touch a volume (small, and always buildable).
  const { ensureGatewayImage } = await import('../images/gateway.js');
  const { buildSettings } = await import('../sandbox/image.js');
  const image = await ensureGatewayImage(engine, buildSettings(await ctx.config()), ctx.events.progress());
  return { engine, image };
}

/** The agent (by name or alias) and a checked profile name (default: `default`). */
export function agentProfile(input: AuthProfileInput) {
  return { agent: resolveAgent(input.agent), profile: validateProfile(input.profile ?? DEFAULT_PROFILE) };
}

export interface ImportedLogin extends ImportResult {
  agent: string;
  displayName: string;
  profile: string;
  /** Brokered: kept in corral's store and refreshed by corral (the sandbox sees a placeholder). */
  brokered: boolean;
}

/** Copy the user's existing login on this machine (or the file `from`) into a profile. */
export async function importAgentLogin(_ctx: CoreContext, input: AuthImportInput): Promise<ImportedLogin> {
  const { agent, profile } = agentProfile(input);
  const r = await (await manage()).importLogin(agent, profile, input.from ? { from: input.from } : {});
  return { ...r, agent: agent.name, displayName: agent.displayName, profile, brokered: Boolean(agent.oauth) };
}

/** Every profile: workspace homes (when the engine answers), stored login and expiry, stored token. */
export async function listAuthProfiles(ctx: CoreContext): Promise<ProfileStatus[]> {
  const engine = await ctx.engine().catch(() => undefined);
  return (await manage()).listProfiles(engine);
}

export interface LoggedOut extends LogoutResult {
  agent: string;
  profile: string;
}

/** Forget a profile's login: the stored token, corral's stored login, login files in its homes. */
export async function logoutProfile(ctx: CoreContext, input: AuthProfileInput): Promise<LoggedOut> {
  const { agent, profile } = agentProfile(input);
  const { logout } = await manage();
  const { detectKeyring } = await import('../auth/keyring.js');
  const { removeStoredToken } = await import('../auth/token.js');
  // The keyring entry first: logout then removes the folder that says it is there.
  await removeStoredToken(agent.name, profile, detectKeyring(ctx.env));
  const r = await logout(agent, profile, () => helperEngine(ctx).catch(() => undefined));
  return { ...r, agent: agent.name, profile };
}
