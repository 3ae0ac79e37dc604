/**
 * `corral auth doctor` without an agent: every login corral keeps for a profile, and what each one
 * exposes inside the sandbox. Brokered logins (an `oauth` spec) show placeholders only; the others
 * are copied into the sandbox's home as they are, refresh tokens included. Never reads out a token.
 */
import { LOGIN_EXPOSURE } from '../agents/login-exposure.js';
import type { AgentSpec } from '../agents/types.js';
import { readLoginFiles } from './login-files.js';
import { loginFileState } from './login-state.js';
import { authDir } from './paths.js';
import { readLogin } from './store.js';

export interface ExposureRow {
  agent: string;
  profile: string;
  /** Files in the sandbox's home, relative to $HOME. */
  files: string[];
  brokered: boolean;
  /** The login holds a refresh token (for a brokered one: corral's copy, never the sandbox's). */
  refreshToken: boolean;
  expiresAt?: number;
  /** What a process in the sandbox can read. */
  exposes: string;
  /** Whether corral brokers it or could. */
  broker: string;
}

export async function loginExposures(agents: readonly AgentSpec[], profile: string): Promise<ExposureRow[]> {
  const rows: ExposureRow[] = [];
  for (const agent of agents) {
    if (agent.oauth) {
      const login = await readLogin(authDir(agent.name, profile)).catch(() => undefined);
      if (!login) continue;
      rows.push({
        agent: agent.name,
        profile,
        files: [agent.oauth.file],
        brokered: true,
        refreshToken: Boolean(login.refreshToken),
        expiresAt: login.expiresAt,
        exposes: 'placeholders only: the gateway injects the access token and refreshes it on the host',
        broker: 'brokered',
      });
      continue;
    }
    if (!agent.loginFiles.length) continue;
    const files = await readLoginFiles(agent.name, profile).catch(() => ({}) as Record<string, string>);
    const present = agent.loginFiles.filter((f) => files[f] !== undefined);
    if (!present.length) continue;
    const states = present.map((f) => loginFileState(f, files[f]));
    const exp = states.map((s) => s.expiresAt).filter((x): x is number => x !== undefined);
    const known = LOGIN_EXPOSURE[agent.name];
    rows.push({
      agent: agent.name,
      profile,
      files: present,
      brokered: false,
      refreshToken: states.some((s) => s.refreshable),
      ...(exp.length ? { expiresAt: Math.min(...exp) } : {}),
      exposes: `${known?.holds ?? 'the login as the agent wrote it'}, readable by anything running in the sandbox`,
      broker: known?.broker ?? 'not brokered',
    });
  }
  return rows;
}
