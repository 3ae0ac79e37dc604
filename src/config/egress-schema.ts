/** The config's `egress:` block: what sandboxes may reach through the gateway (kept apart from schema.ts for its size). */
import { z } from 'zod';

export const EgressSchema = z
  .strictObject({
    /** agent: only the agent's API; dev: plus package registries and git hosts; open; none. */
    preset: z.enum(['agent', 'dev', 'open', 'none']).default('agent'),
    /** Domains (`example.com`, `*.example.com`), optionally `:port`, or `METHOD host/path-prefix`. */
    allow: z.array(z.string().min(1)).default([]),
    deny: z.array(z.string().min(1)).default([]),
    /** Host ports the sandbox may reach (a local model server, a dev database). */
    allow_host_ports: z.array(z.number().int().min(1).max(65535)).default([]),
    /** A PEM file of extra CAs the gateway trusts for upstream TLS (an internal registry's). */
    upstream_ca: z.string().optional(),
    /** Names the gateway resolves to fixed addresses (`host-gateway` is the host), like --add-host. */
    hosts: z.record(z.string(), z.string()).default({}),
    /** Log request and response bodies (first 64 KiB, text only, redacted) in the audit log. */
    log_bodies: z.boolean().default(false),
    /** Seconds the gateway stays up after its last sandbox, for the next run; 0 stops it at once. */
    gateway_linger: z.number().int().min(0).default(120),
  })
  .prefault({});
