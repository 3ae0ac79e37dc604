import type { Config } from './schema.js';

/**
 * What ConfigSchema.parse({}) yields, spelled out so a run with no config file and no CORRAL_*
 * variables never loads zod (~70 ms). A unit test keeps the two equal.
 */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  auto_pull: false,
  auto_remove: true,
  host_ca: 'auto',
  host_settings: false,
  credential_check: true,
  limits: { pids: 4096, memory: '8g' },
  transcripts: { enabled: true, keep: 200 },
  env: {},
  network: 'gateway',
  isolation: 'runc',
  egress: {
    preset: 'agent' as const,
    allow: [],
    deny: [],
    allow_host_ports: [],
    hosts: {},
    log_bodies: false,
    gateway_linger: 120,
  },
  services: {},
  mcp_servers: {},
  agents: {},
  auth: { refresh_check_seconds: 300, refresh_ahead_seconds: 3600 },
});
