/**
 * Tokens the gateway holds for the sandbox (the sandbox sees placeholders): `secret_env` for any
 * environment variable, `github` for a GitHub token with an optional scope. Validated here so a
 * mistake names its key; the gateway re-checks what it is handed (src/gateway/token-scope.ts).
 */
import { z } from 'zod';

const ENV_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const HOST = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
    'a host name like api.example.com or *.example.com',
  );
const HEADER = z.string().regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name like authorization or x-api-key');

/** `secret_env: { NAME: { hosts: [api.example.com], header: authorization } }`. */
export const SecretEnvSchema = z.record(
  ENV_NAME,
  z.strictObject({
    /** The only hosts the real value is sent to (over TLS, in `header`). */
    hosts: z.array(HOST).min(1),
    /** The header that carries it; `Bearer`, `token` or Basic auth around the placeholder are kept. */
    header: HEADER.default('authorization'),
  }),
);
export type SecretEnvConfig = z.infer<typeof SecretEnvSchema>;

export const GITHUB_HOSTS = ['api.github.com', 'github.com', 'uploads.github.com'];

/**
 * `github: { token_env: GH_TOKEN, repos: [owner/name], allow: ['GET *', 'POST /repos/o/r/pulls'] }`.
 * The token is read from the host's `token_env`; the sandbox gets a placeholder as GH_TOKEN and
 * GITHUB_TOKEN.
 */
export const GithubSchema = z.strictObject({
  /** The host environment variable holding the token. */
  token_env: ENV_NAME.default('GH_TOKEN'),
  /** Where the token may go (GitHub Enterprise: your server's names). */
  hosts: z.array(HOST).min(1).default(GITHUB_HOSTS),
  /** Only these repositories (`owner/name`); absent: every repository the token reaches. */
  repos: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, 'a repository as owner/name'))
    .min(1)
    .optional(),
  /** Only these requests, as `METHOD /path` (`*`: any method or any path); absent: all. */
  allow: z
    .array(
      z
        .string()
        .regex(/^(\*|[A-Z]+)\s+(\*|\/\S*)$/, 'METHOD /path, e.g. "GET *" or "POST /repos/owner/name/pulls"'),
    )
    .min(1)
    .optional(),
});
export type GithubConfig = z.infer<typeof GithubSchema>;
