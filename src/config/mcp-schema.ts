/** The config's `mcp_servers:` entries, as data (kept apart from schema.ts for its size). */
import { z } from 'zod';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/**
 * One MCP server handed to every agent (beside corral's host bridge): a remote one by `url`
 * (streamable HTTP), with plain `headers` and `secret_headers` whose values come from host env
 * vars and are injected by the egress gateway (the sandbox sees placeholders); or a stdio one by
 * `command`, started by the agent inside the sandbox.
 */
export const McpServerConfigSchema = z
  .strictObject({
    url: z
      .string()
      .url('an http(s) URL like https://mcp.example.com/mcp')
      .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL like https://mcp.example.com/mcp')
      .optional(),
    headers: z.record(z.string().regex(HEADER_NAME, 'a header name like X-Team'), z.string()).optional(),
    /** Header → the host env var holding its value (Authorization is sent as `Bearer <value>`). */
    secret_headers: z
      .record(
        z.string().regex(HEADER_NAME, 'a header name like Authorization'),
        z.string().regex(ENV_NAME, 'the name of a host environment variable holding the value'),
      )
      .optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string().regex(ENV_NAME, 'an environment variable name'), z.string()).optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
    if (Boolean(s.url) === Boolean(s.command))
      issue(
        'expected either url (a remote server) or command (a stdio server in the sandbox), not both or neither',
      );
    if (s.url && (s.args || s.env)) issue('args and env belong to a stdio server (command), not a url one');
    if (s.command && (s.headers || s.secret_headers))
      issue('headers and secret_headers belong to a url server, not a stdio one');
    for (const h of Object.keys(s.headers ?? {}))
      if (Object.keys(s.secret_headers ?? {}).some((x) => x.toLowerCase() === h.toLowerCase()))
        issue(`${h} is in both headers and secret_headers`, ['headers', h]);
  });
export type McpServerConfig = z.infer<typeof McpServerConfigSchema>;

/** Every config MCP server by name (`corral` is the host bridge's). */
export const McpServersSchema = z
  .record(z.string(), McpServerConfigSchema)
  .superRefine((servers, ctx) => {
    for (const name of Object.keys(servers)) {
      const message = !/^[a-z0-9][a-z0-9_-]{0,39}$/.test(name)
        ? 'expected a server name of lowercase letters, digits, - and _ (like docs or github)'
        : name === 'corral'
          ? '"corral" is the host bridge\'s name: pick another'
          : undefined;
      if (message) ctx.addIssue({ code: 'custom', message, path: [name] });
    }
  })
  .default({});
