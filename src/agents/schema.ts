/**
 * The shape of an agent spec, as a zod schema. The unit tests validate every spec against it; the
 * CLI itself never loads zod on its start path (see types.ts).
 */
import { z } from 'zod';
import { MCP_FORMATS, type McpFormatName } from './mcp-formats.js';
import { OAUTH_FORMATS, type OAuthFormatName } from './oauth-formats.js';

/** How the agent's CLI gets into its image layer. Versions are pinned; config may override. */
export const InstallSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('npm'),
    package: z.string(),
    version: z.string(),
  }),
  z.object({
    kind: z.literal('pip'),
    package: z.string(),
    version: z.string(),
    /** The Python the package needs; selects the base distribution (bookworm ships 3.11). */
    python: z.string(),
  }),
]);

/** An npm package installed into an extra image layer (an ACP adapter). */
export const NpmPackageSchema = z.object({ package: z.string(), version: z.string() });

export const AcpSchema = z.object({
  /** argv in the sandbox; the agent's own command when absent. */
  command: z.array(z.string()).min(1).optional(),
  /** Args after the command (`--acp`, `--experimental-acp`). */
  args: z.array(z.string()).default([]),
  adapter: NpmPackageSchema.optional(),
});

/** Which wire format the agent speaks to its model; the scripted model server serves each. */
export const WireSchema = z.enum(['anthropic', 'openai-responses', 'openai-chat', 'gemini']);

/**
 * How to point the agent at a custom model endpoint (corral's scripted model server, a local model,
 * a corporate gateway). `{baseUrl}`, `{apiKey}` and `{model}` are substituted. Files are written into the
 * agent's home before it starts; paths are relative to $HOME.
 */
export const EndpointSchema = z.object({
  wire: WireSchema,
  env: z.record(z.string(), z.string()).default({}),
  files: z.record(z.string(), z.string()).default({}),
  args: z.array(z.string()).default([]),
  /** Args for one headless, non-interactive prompt: `{prompt}` is substituted. */
  promptArgs: z.array(z.string()),
  /** The model `{model}` stands for when none is chosen (`--model`, a provider's default). */
  defaultModel: z.string().optional(),
  /** Env set only when a model is chosen (agents that otherwise keep their own default model). */
  modelEnv: z.record(z.string(), z.string()).default({}),
});

/**
 * An OAuth login corral can broker (src/auth/): the host keeps the real tokens and refreshes them;
 * the sandbox's credentials file holds placeholders the gateway swaps for the current token.
 */
export const OAuthSchema = z.object({
  /** The shape of the agent's credentials file, which decides how tokens are read and refreshed. */
  format: z.enum(Object.keys(OAUTH_FORMATS) as [OAuthFormatName, ...OAuthFormatName[]]),
  /** The credentials file, relative to $HOME. */
  file: z.string(),
  /** Where the CLI refreshes its tokens (config `agents.<name>.oauth_token_url` overrides it). */
  tokenUrl: z.string().url(),
  clientId: z.string(),
  /**
   * An installed app's client secret, sent on refresh where the endpoint wants one (Google's). It is
   * published in the CLI itself (installed apps cannot keep one), so it is no secret of the user's.
   */
  clientSecret: z.string().optional(),
  /** How the refresh request is encoded: JSON (Claude, Codex) or a form (Google, Qwen). */
  tokenBody: z.enum(['json', 'form']).default('json'),
  /** Scopes asked for on refresh when the login does not record its own. */
  scopes: z.array(z.string()).default([]),
  /** Where the access token is sent as a bearer: the gateway swaps the placeholder in there only. */
  hosts: z.array(z.string()).min(1),
});

/** The MCP config formats corral renders for its host bridge: the renderers in ./mcp-formats.ts. */
export const McpFormatSchema = z.enum(Object.keys(MCP_FORMATS) as [McpFormatName, ...McpFormatName[]]);

export const AgentSpecSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  displayName: z.string(),
  provider: z.string(),
  /** Other names the CLI accepts, shortest first (e.g. `c` for claude). */
  aliases: z.array(z.string()),
  install: InstallSchema,
  /** argv of the agent inside the sandbox. */
  command: z.array(z.string()).min(1),
  /** argv that prints the CLI's version and exits 0. */
  versionCommand: z.array(z.string()).min(1),
  /** Args that turn on the agent's own autonomy mode (`--yolo`); empty when it has none. */
  yoloArgs: z.array(z.string()),
  /** Instead of yoloArgs with a headless prompt, where the two do not combine (OpenCode). */
  headlessYoloArgs: z.array(z.string()).optional(),
  /** Paths relative to $HOME that hold login and config; they live in the persistent state volume. */
  statePaths: z.array(z.string()).min(1),
  /** Env names of API keys / tokens the agent reads; passed in only when the user names them. */
  authEnv: z.array(z.string()),
  /** Domains the agent must reach to work at all (its API and login). */
  apiDomains: z.array(z.string()).min(1),
  /** The instructions file the agent reads from the workspace root. */
  instructionsFile: z.string(),
  /**
   * How to hand the agent a workspace's AGENTS.md when it reads another file name and the
   * workspace has none of its own (`{instructions}` is the text). Nothing is written to the repo.
   */
  instructionsArgs: z.array(z.string()).optional(),
  /**
   * The user's own settings files (relative to $HOME) that `host_settings: true` copies in at each
   * start: JSON files are merged under corral's own, other files copied as they are.
   */
  hostSettings: z.array(z.string()).default([]),
  /**
   * Keys the egress gateway can hold for the agent: the sandbox gets a placeholder in `env`, and the
   * gateway swaps the real value into `header` on TLS requests to `host` only.
   */
  injectable: z
    .array(
      z.object({
        env: z.string(),
        host: z.string(),
        header: z.enum(['authorization', 'x-api-key', 'x-goog-api-key']),
        /** The env holds JSON and the key is this field of it (Augment's session). */
        field: z.string().optional(),
        /** Any auth scheme (`token`, `Bearer`) or Basic auth around the placeholder, kept as sent. */
        anyScheme: z.boolean().optional(),
      }),
    )
    .default([]),
  /**
   * How the agent is told about corral's host bridge (an MCP server over streamable HTTP with a
   * bearer token): the config rendered in `format`, handed over by a file in its home, args or env.
   */
  mcp: z
    .object({
      format: McpFormatSchema,
      /**
       * A file (relative to $HOME) that receives the config. Never a file the agent keeps its own
       * login or settings in: an endpoint's file of the same name is merged into, nothing else is.
       */
      file: z.string().optional(),
      /** Args right after the command; `{file}` is the file's absolute path, `{config}` the config text. */
      args: z.array(z.string()).default([]),
      /** Env for the agent, with the same placeholders. */
      env: z.record(z.string(), z.string()).default({}),
      /** The name the agent gives the model for the bridge's `run_command` (the server is `corral`). */
      tool: z.string(),
      /**
       * A file (relative to $HOME, named by corral) the agent reads as the user's own instructions,
       * for agents whose MCP client does not pass the server's instructions on to the model.
       */
      instructionsFile: z.string().optional(),
    })
    .optional(),
  /**
   * The agent's own flow that prints a long-lived token (`claude setup-token`): the command, the
   * env name the agent reads it from, and the token's shape (to pick it out of the output).
   */
  setupToken: z
    .object({ command: z.array(z.string()).min(1), env: z.string(), pattern: z.string() })
    .optional(),
  /**
   * A cheap authenticated request (`corral auth doctor`): GET `url` (its origin replaced by the
   * env `baseUrlEnv` when set), sending the key as the agent's `injectable` entry for that env says.
   */
  authProbe: z
    .object({
      url: z.string().url(),
      baseUrlEnv: z.string().optional(),
      headers: z.record(z.string(), z.string()).default({}),
      /** Extra headers when the credential is an OAuth token rather than an API key. */
      oauthHeaders: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  oauth: OAuthSchema.optional(),
  /**
   * The CLI's own login command (`corral auth login`): args after `command`, and the localhost ports
   * its OAuth callback listens on in the sandbox, forwarded from the host's for the login.
   */
  login: z.object({ args: z.array(z.string()).min(1), callbackPorts: z.array(z.number().int()) }).optional(),
  /**
   * Files in $HOME that hold a login: `corral auth import` copies them in, `corral auth logout`
   * removes them, `corral auth doctor` reads their expiry.
   */
  loginFiles: z.array(z.string()).default([]),
  /**
   * Where the agent reads skills (folders with a SKILL.md), relative to $HOME: `corral skills`
   * installs into it. Absent: the agent has no skills folder corral knows.
   */
  skillsDir: z.string().optional(),
  /** Extra env the sandbox always sets for this agent (disabling auto-updaters etc.). */
  env: z.record(z.string(), z.string()).default({}),
  endpoint: EndpointSchema.optional(),
  /**
   * The agent's own conversations, for `corral resume`: `{sessionId}` is substituted. assignArgs
   * let corral name a new conversation itself; without them, `pattern` (one capture group) finds
   * the id the agent prints in a headless run's output. resumeArgs reopen one (they combine with a
   * headless prompt unless headlessResume is false).
   */
  session: z
    .object({
      assignArgs: z.array(z.string()).optional(),
      pattern: z.string().optional(),
      resumeArgs: z.array(z.string()).min(1),
      headlessResume: z.boolean().default(true),
      /**
       * The whole headless command for continuing a conversation with a prompt (`{sessionId}` and
       * `{prompt}` substituted), for agents whose headless resume is its own subcommand
       * (`codex exec resume ID PROMPT`); it replaces promptArgs then.
       */
      headlessResumeArgs: z.array(z.string()).optional(),
    })
    .optional(),
  /**
   * Args for one headless prompt (`{prompt}` substituted) for an agent without an endpoint recipe
   * (a custom agent); an endpoint's promptArgs win.
   */
  headlessArgs: z.array(z.string()).optional(),
  /** Args that continue the agent's most recent session in the workspace (`corral run A --resume`). */
  resumeArgs: z.array(z.string()).optional(),
  /**
   * The agent's Agent Client Protocol server (`corral acp A`): JSON-RPC over stdio in the sandbox.
   * Native (`args` after `command`, e.g. `--acp`) or an adapter package installed as an extra image
   * layer whose `command` speaks ACP and drives the agent's CLI.
   */
  acp: AcpSchema.optional(),
  /**
   * Why the CLI cannot be installed on these machines (e.g. its install script downloads a binary
   * from a host no registry serves): image builds stop with this reason, e2e tests skip with it.
   */
  unavailable: z.string().optional(),
  /** Why a feature is missing, shown by `corral agents` (e.g. "no yolo mode"). */
  notes: z.array(z.string()).default([]),
});
