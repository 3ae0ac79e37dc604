/**
 * The config's `mcp_servers` for one run: each as the sandbox sees it (a URL on this machine goes
 * through the host alias), and the secret headers as credentials the gateway injects (the agent's
 * config holds placeholders). Without the gateway nothing could inject them, so a server with
 * secret headers is left out then, and said so.
 */
import type { McpServer } from '../../agents/mcp-formats.js';
import type { Config } from '../../config/index.js';
import { CorralError } from '../../errors.js';
import { type InjectedCredential, placeholderFor } from '../../workspace/placeholders.js';
import { isHostUrl, modelEgress, sandboxModelUrl } from './support.js';

export interface McpPlan {
  servers: McpServer[];
  credentials: InjectedCredential[];
}

export function planMcpServers(
  config: Pick<Config, 'mcp_servers'>,
  hostEnv: NodeJS.ProcessEnv,
  network: string,
  alias: string,
  note: (line: string) => void,
  /** The remote engine's ssh:// URL: its host is that machine (see isHostUrl). */
  remote?: string,
): McpPlan {
  const servers: McpServer[] = [];
  const credentials: InjectedCredential[] = [];
  for (const [name, s] of Object.entries(config.mcp_servers ?? {})) {
    if (s.command) {
      servers.push({ name, transport: 'stdio', command: s.command, args: s.args ?? [], env: s.env ?? {} });
      continue;
    }
    if (!s.url) continue;
    const secrets = Object.entries(s.secret_headers ?? {});
    if (secrets.length && network !== 'gateway') {
      note(
        `corral: MCP server ${name} left out: its secret headers need the egress gateway (--network gateway)`,
      );
      continue;
    }
    const url = sandboxModelUrl(s.url, alias, remote);
    const target = new URL(url);
    if (secrets.length && target.protocol === 'http:' && !isHostUrl(new URL(s.url), remote)) {
      throw new CorralError(
        'CONFIG_INVALID',
        `mcp_servers.${name}.url is plain http:// on another machine: its secret_headers would cross the network unencrypted.`,
        'Use an https:// URL for a server that gets secret headers.',
      );
    }
    const headers = { ...(s.headers ?? {}) };
    for (const [header, envName] of secrets) {
      const value = hostEnv[envName];
      if (!value) {
        throw new CorralError(
          'CONFIG_INVALID',
          `mcp_servers.${name}.secret_headers.${header} names ${envName}, which is not set in this environment.`,
          `Export ${envName} (the header's value) before \`corral run\`, or remove the header.`,
        );
      }
      const placeholder = placeholderFor(value);
      const isAuth = header.toLowerCase() === 'authorization';
      headers[header] = isAuth ? `Bearer ${placeholder}` : placeholder;
      credentials.push({
        host: target.hostname.replace(/^\[|\]$/g, ''),
        header: header.toLowerCase(),
        value,
        placeholder,
        ...(target.protocol === 'http:' ? { plain: true } : {}),
      });
    }
    servers.push({ name, transport: 'http', url, headers });
  }
  return { servers, credentials };
}

/** What the gateway must let through for the config's remote MCP servers (as for a model URL). */
export function mcpEgress(
  config: Pick<Config, 'mcp_servers'>,
  remote?: string,
): { hostPorts: number[]; allow: string[] } {
  const out = { hostPorts: [] as number[], allow: [] as string[] };
  for (const s of Object.values(config.mcp_servers ?? {})) {
    if (!s.url) continue;
    const e = modelEgress(s.url, remote);
    if (e.hostPort) out.hostPorts.push(e.hostPort);
    if (e.allow) out.allow.push(e.allow);
  }
  return out;
}
