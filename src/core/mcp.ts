/** `corral mcp list`: the MCP servers every agent gets (the host bridge, then the config's). */
import { AGENTS } from '../agents/index.js';
import type { CoreContext } from './context.js';

export interface McpServerView {
  name: string;
  transport: 'http' | 'stdio';
  /** Remote servers. */
  url?: string;
  /** Header names sent as written in config. */
  headers?: string[];
  /** Header → the host env var the gateway injects its value from (the sandbox sees a placeholder). */
  secretHeaders?: Record<string, string>;
  /** Stdio servers: argv run inside the sandbox. */
  command?: string[];
  env?: string[];
  /** Where it comes from: corral itself (the bridge) or config. */
  source: 'corral' | 'config';
}

export interface McpListing {
  servers: McpServerView[];
  /** Agents that get them (an MCP client corral configures), and those that do not. */
  agents: string[];
  without: string[];
}

export async function listMcpServers(
  ctx: CoreContext,
  input: { workdir?: string | undefined },
): Promise<McpListing> {
  const config = await ctx.config(input.workdir ?? ctx.cwd);
  const servers: McpServerView[] = [
    {
      name: 'corral',
      transport: 'http',
      url: 'http://127.0.0.1:3129/mcp (host bridge, behind the gateway)',
      source: 'corral',
    },
  ];
  for (const [name, s] of Object.entries(config.mcp_servers)) {
    servers.push(
      s.url
        ? {
            name,
            transport: 'http',
            url: s.url,
            headers: Object.keys(s.headers ?? {}),
            secretHeaders: s.secret_headers ?? {},
            source: 'config',
          }
        : {
            name,
            transport: 'stdio',
            command: [s.command ?? '', ...(s.args ?? [])],
            env: Object.keys(s.env ?? {}),
            source: 'config',
          },
    );
  }
  return {
    servers,
    agents: AGENTS.filter((a) => a.mcp).map((a) => a.name),
    without: AGENTS.filter((a) => !a.mcp).map((a) => a.name),
  };
}
