/**
 * An agent is data: how to install it, how to start it, where it keeps its login, which keys and
 * domains it needs. Nothing agent-specific lives outside src/agents/. The types come from the zod
 * schema (schema.ts), imported as types only: loading zod costs ~70 ms, and specs are ours, not
 * user input, so they are validated by the unit tests instead of on every start.
 */
import type { z } from 'zod';
import type {
  AcpSchema,
  AgentSpecSchema,
  EndpointSchema,
  InstallSchema,
  McpFormatSchema,
  OAuthSchema,
  WireSchema,
} from './schema.js';

export type Install = z.infer<typeof InstallSchema>;
export type Wire = z.infer<typeof WireSchema>;
export type Endpoint = z.infer<typeof EndpointSchema>;
export type McpFormat = z.infer<typeof McpFormatSchema>;
export type OAuthSpec = z.infer<typeof OAuthSchema>;
export type AcpSpec = z.infer<typeof AcpSchema>;
export type AgentSpec = z.infer<typeof AgentSpecSchema>;
export type AgentSpecInput = z.input<typeof AgentSpecSchema>;

/** Fill in the schema's defaults (the schema itself checks each spec in test/unit/agents.test.ts). */
export function defineAgent(spec: AgentSpecInput): AgentSpec {
  const { endpoint, mcp, authProbe, oauth, session, acp, ...rest } = spec;
  return {
    env: {},
    notes: [],
    hostSettings: [],
    injectable: [],
    loginFiles: [],
    ...rest,
    ...(oauth ? { oauth: { scopes: [], tokenBody: 'json' as const, ...oauth } } : {}),
    ...(session ? { session: { headlessResume: true, ...session } } : {}),
    ...(endpoint ? { endpoint: { env: {}, files: {}, args: [], modelEnv: {}, ...endpoint } } : {}),
    ...(mcp ? { mcp: { args: [], env: {}, ...mcp } } : {}),
    ...(acp ? { acp: { args: [], ...acp } } : {}),
    ...(authProbe ? { authProbe: { headers: {}, oauthHeaders: {}, ...authProbe } } : {}),
  };
}
