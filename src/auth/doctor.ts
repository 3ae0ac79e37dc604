/**
 * `corral auth doctor`: which credential an agent would use (by the documented precedence), and
 * whether it works. Exit codes: 0 works, 1 missing or expired but refreshable, 2 broken.
 */
import type { AgentSpec } from '../agents/types.js';
import type { LoginFileState } from './login-state.js';
import { type ProbeResult, probeRequest, runProbe } from './probe.js';
import { type CredentialChoice, chooseCredential, type StoredToken } from './token.js';

export type DoctorStatus = 'ok' | 'missing' | 'refreshable' | 'broken';

export interface DoctorReport {
  agent: string;
  profile: string;
  /** What would be used, in words (never the value). */
  credential: string;
  source: CredentialChoice['kind'] | 'none';
  status: DoctorStatus;
  detail: string;
  exitCode: 0 | 1 | 2;
}

export interface DoctorInput {
  agent: AgentSpec;
  profile: string;
  /** The env the sandbox would get from what the user names (config env, env files, -e). */
  env: Record<string, string>;
  token?: StoredToken;
  /** A brokered login in corral's store (the sandbox holds only placeholders for it). */
  brokered?: { expiresAt: number; refreshable: boolean };
  /** Reads the login files in the profile's state; called only when no key, token or brokered login wins. */
  loginState: () => Promise<LoginFileState[]>;
  probe?: (req: { url: string; headers: Record<string, string> }) => Promise<ProbeResult>;
  now?: number;
}

const EXIT: Record<DoctorStatus, 0 | 1 | 2> = { ok: 0, missing: 1, refreshable: 1, broken: 2 };

function report(
  base: Pick<DoctorReport, 'agent' | 'profile' | 'credential' | 'source'>,
  status: DoctorStatus,
  detail: string,
): DoctorReport {
  return { ...base, status, detail, exitCode: EXIT[status] };
}

const inHours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`;

export async function diagnose(input: DoctorInput): Promise<DoctorReport> {
  const { agent, profile, env } = input;
  const choice = chooseCredential(agent, env, input.token);
  const probe = input.probe ?? runProbe;
  const who = { agent: agent.name, profile };
  if (choice.kind !== 'login') {
    const value = choice.kind === 'env' ? env[choice.name]! : input.token!.value;
    const credential =
      choice.kind === 'env'
        ? `${choice.name} from your environment/config`
        : `the long-lived token stored in ${choice.where === 'keyring' ? 'the keyring' : 'a 0600 file'} (as ${choice.name})`;
    const base = { ...who, credential, source: choice.kind };
    const req = probeRequest(agent, choice.name, value, env);
    if (!req) return report(base, 'ok', `present; corral has no cheap check for ${agent.displayName}`);
    const result = await probe(req);
    return report(base, result.ok ? 'ok' : 'broken', result.detail);
  }
  if (input.brokered) {
    const base = {
      ...who,
      credential: "the brokered login in corral's store (the gateway injects and refreshes it)",
      source: 'login' as const,
    };
    return judgeExpiry(base, input.brokered, input.now, true);
  }
  const files = await input.loginState();
  const found = files.find((f) => f.present);
  if (!found) {
    const hint = agent.setupToken
      ? `log in with \`corral auth login ${agent.name}\` or store a token with \`corral auth setup-token ${agent.name}\``
      : `log in with \`corral auth login ${agent.name}\`, or pass a key (${agent.authEnv.join(', ') || 'none known'})`;
    return report(
      { ...who, credential: 'nothing', source: 'none' },
      'missing',
      `no key, token or login; ${hint}`,
    );
  }
  const base = {
    ...who,
    credential: `the login in the profile's state (~/${found.file})`,
    source: 'login' as const,
  };
  return judgeExpiry(base, found, input.now, false);
}

function judgeExpiry(
  base: Pick<DoctorReport, 'agent' | 'profile' | 'credential' | 'source'>,
  login: { expiresAt?: number | undefined; refreshable: boolean },
  now: number | undefined,
  brokered: boolean,
): DoctorReport {
  const left = login.expiresAt === undefined ? undefined : login.expiresAt - (now ?? Date.now());
  if (left === undefined) return report(base, 'ok', 'present (it records no expiry)');
  if (left > 0) return report(base, 'ok', `valid for another ${inHours(left)}`);
  const who = brokered
    ? 'the gateway refreshes it at the next run'
    : 'the agent refreshes it at its next start';
  return login.refreshable
    ? report(base, 'refreshable', `expired ${inHours(-left)} ago; ${who}`)
    : report(base, 'broken', `expired ${inHours(-left)} ago and holds no refresh token; log in again`);
}
