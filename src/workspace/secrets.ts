/**
 * Tokens that are not an agent's API key but must not enter the sandbox either: GitHub tokens
 * (GH_TOKEN, GITHUB_TOKEN, COPILOT_GITHUB_TOKEN), the `github:` config's token (optionally scoped to
 * repositories and requests), and any env the user marks secret (`--secret-env`, `secret_env:`).
 * Each becomes a placeholder in the sandbox's env; the gateway swaps the real value in on TLS
 * requests to its own hosts only (src/gateway/credentials.ts).
 */
import type { GithubConfig, SecretEnvConfig } from '../config/secrets-schema.js';
import { CorralError } from '../errors.js';
import { type InjectedCredential, placeholderReusing, type ServedPlaceholders } from './placeholders.js';

/** Where a GitHub token is used: the API, git over HTTPS, release uploads. */
export const GITHUB_HOSTS = ['api.github.com', 'github.com', 'uploads.github.com'];
/** The env names GitHub's tools (gh, git credential helpers, Copilot) read a token from. */
export const GITHUB_ENVS = ['GH_TOKEN', 'GITHUB_TOKEN', 'COPILOT_GITHUB_TOKEN'];
export const isGithubEnv = (name: string): boolean => GITHUB_ENVS.includes(name);

export interface SecretsInput {
  /** The sandbox env so far (agent keys already placeholders). */
  env: Record<string, string>;
  credentials: InjectedCredential[];
  /** The host's environment: `--secret-env KEY` and `github.token_env` read from it when unset. */
  host: NodeJS.ProcessEnv;
  secretEnv?: SecretEnvConfig | undefined;
  github?: GithubConfig | undefined;
  /** `--secret-env KEY` or `KEY@host[,host…]`. */
  flags: string[];
  /** The placeholders the workspace's gateway serves now (reused for the same value). */
  served?: ServedPlaceholders | undefined;
}

const FLAG = /^([A-Za-z_][A-Za-z0-9_]*)(?:@([^@\s]+))?$/;
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

interface Marked {
  name: string;
  hosts: string[];
  header: string;
}

/** What the flags and `secret_env` mark secret, with their hosts (a flag's hosts win). */
export function markedSecrets(flags: readonly string[], config: SecretEnvConfig = {}): Marked[] {
  const out = new Map<string, Marked>();
  for (const [name, c] of Object.entries(config)) out.set(name, { name, hosts: c.hosts, header: c.header });
  for (const flag of flags) {
    const m = FLAG.exec(flag);
    if (!m) {
      throw new CorralError(
        'BAD_INPUT',
        `--secret-env ${flag}: expected KEY or KEY@host[,host…].`,
        'e.g. --secret-env MY_API_KEY@api.example.com',
      );
    }
    const name = m[1]!;
    const hosts = m[2]?.split(',') ?? out.get(name)?.hosts;
    if (!hosts?.length) {
      throw new CorralError(
        'BAD_INPUT',
        `--secret-env ${name} does not say which hosts the secret belongs to.`,
        `Name them: --secret-env ${name}@api.example.com, or add secret_env: { ${name}: { hosts: [api.example.com] } } to the config.`,
      );
    }
    const bad = hosts.find((h) => !HOST.test(h));
    if (bad !== undefined)
      throw new CorralError(
        'BAD_INPUT',
        `--secret-env ${name}: "${bad}" is not a host name like api.example.com.`,
      );
    out.set(name, { name, hosts, header: out.get(name)?.header ?? 'authorization' });
  }
  return [...out.values()];
}

/** The real value behind a placeholder this run already made, or the value itself. */
function realValue(credentials: readonly InjectedCredential[], v: string): string {
  return credentials.find((c) => c.placeholder === v)?.value ?? v;
}

/**
 * Without the gateway nothing can inject a secret: refuse rather than pass a value the user marked
 * secret (or scoped) into the sandbox.
 */
export function refuseSecretsWithoutGateway(input: SecretsInput, mode: string): void {
  const marked = [
    ...input.flags.map((f) => f.split('@')[0]!),
    ...Object.keys(input.secretEnv ?? {}).filter((n) => input.env[n] !== undefined),
  ];
  if (marked.length) {
    throw new CorralError(
      'BAD_INPUT',
      `${marked.join(', ')} ${marked.length > 1 ? 'are' : 'is'} marked secret, and only the egress gateway can keep a secret out of the sandbox (this run's network is ${mode}).`,
      'Use --network gateway, or pass the value with -e instead of marking it secret.',
    );
  }
}

export function withSecrets(input: SecretsInput): {
  env: Record<string, string>;
  credentials: InjectedCredential[];
} {
  const env = { ...input.env };
  const credentials = [...input.credentials];
  const placeholderOf = new Map<string, string>();
  /** One placeholder per real value: the same token under two names is one secret. */
  const hide = (name: string, value: string, keepPrefix = true): string => {
    const real = realValue(credentials, value);
    const p =
      placeholderOf.get(real) ??
      credentials.find((c) => c.value === real)?.placeholder ??
      placeholderReusing(real, keepPrefix, input.served);
    placeholderOf.set(real, p);
    env[name] = p;
    return p;
  };
  const add = (hosts: readonly string[], header: string, value: string, placeholder: string, extra = {}) => {
    for (const host of hosts)
      credentials.push({ host, header, value, placeholder, anyScheme: true, ...extra });
  };

  for (const s of markedSecrets(input.flags, input.secretEnv)) {
    const value = env[s.name] ?? input.host[s.name];
    if (!value) {
      throw new CorralError(
        'BAD_INPUT',
        `${s.name} is marked secret but has no value (not set with -e, --env-file, config env or on the host).`,
        `Set ${s.name} on the host or pass -e ${s.name}=…`,
      );
    }
    const real = realValue(credentials, value);
    add(s.hosts, s.header.toLowerCase(), real, hide(s.name, value, false));
  }

  const gh = input.github;
  const configured = gh ? (input.host[gh.token_env] ?? env[gh.token_env]) : undefined;
  if (gh && configured) {
    const real = realValue(credentials, configured);
    const p = hide('GH_TOKEN', configured);
    env.GITHUB_TOKEN = p;
    if (gh.token_env !== 'GH_TOKEN' && gh.token_env !== 'GITHUB_TOKEN' && env[gh.token_env] !== undefined)
      env[gh.token_env] = p;
    const scope = {
      kind: 'github' as const,
      ...(gh.repos ? { repos: gh.repos } : {}),
      ...(gh.allow ? { allow: gh.allow } : {}),
    };
    add(gh.hosts, 'authorization', real, p, gh.repos || gh.allow ? { scope } : {});
  }
  // A GitHub token passed with -e (or for Copilot): GitHub's hosts, unscoped.
  for (const name of GITHUB_ENVS) {
    const value = env[name];
    if (!value || (gh && configured && name !== 'COPILOT_GITHUB_TOKEN')) continue;
    const real = realValue(credentials, value);
    if (credentials.some((c) => c.value === real && GITHUB_HOSTS.includes(c.host))) {
      env[name] = hide(name, value);
      continue;
    }
    add(GITHUB_HOSTS, 'authorization', real, hide(name, value));
  }
  return { env, credentials };
}
