/**
 * What the host tells a workspace's gateway, and where each piece lives on both sides. The host
 * owns one folder per workspace under corral's state directory; the gateway container sees parts
 * of it at fixed paths, and a sandbox sees only the socket folder (read-only).
 */
import type { CredentialInput } from './credentials.js';
import type { EgressPolicy } from './policy.js';

export interface GatewaySettings {
  /** The workspace id, for the audit log's `sandbox` field. */
  workspace: string;
  policy: EgressPolicy;
  /** Names of the host as the gateway sees it (host.containers.internal…), for allowed host ports. */
  hostAliases: string[];
  /**
   * The remote engine's ssh:// URL when the gateway runs on another machine: the host it refuses
   * (policy.hostRefused) is that machine, whose addresses were listed there, and this machine's
   * addresses are not added to it.
   */
  hostMachine?: string;
  /** Names pinned to addresses (egress.hosts); `host-gateway` is the host. */
  hosts: Record<string, string>;
  /** Terminate TLS for the policy's intercepted domains with the install's CA. */
  intercept: boolean;
  /** Exit after this long with no connections; 0 never. */
  idleMinutes: number;
  /**
   * Stay up this long after the last sandbox goes, so the next run finds it running; the gateway
   * then exits by itself. 0: stop with the last sandbox. Replaces idleMinutes when set.
   */
  lingerSeconds?: number;
  /** Real keys swapped in for the sandbox's placeholders (which is why this file is 0600). */
  credentials: CredentialInput[];
  /** OAuth logins the gateway injects (and keeps fresh) from the host's login store. */
  brokered?: BrokeredLogin[];
  /** How often the broker looks at each login, and how long before expiry it refreshes. */
  refresh?: { checkSeconds: number; aheadSeconds: number };
  /** Extra CAs (PEM) to trust for upstream TLS: the host's (corporate proxies) and egress.upstream_ca. */
  upstreamCa: string[];
  /** Log request and response bodies, redacted (egress.log_bodies, --log-bodies). */
  logBodies?: boolean;
  /**
   * Counted up by the host at every write (under the settings lock); the gateway writes it to
   * `appliedFile` once it serves these settings, so a run starts its sandbox only when its own
   * policy, or a later one merged from it, is in force.
   */
  revision?: number;
}

/**
 * A brokered OAuth login: the sandbox's credentials file holds `placeholder` as its access token;
 * on TLS requests to `hosts` the gateway swaps in the current real one from the login store.
 */
export interface BrokeredLogin {
  agent: string;
  profile: string;
  hosts: string[];
  placeholder: string;
  tokenUrl: string;
  clientId: string;
  /** An installed app's published client secret (agents/schema.ts), when its endpoint wants one. */
  clientSecret?: string;
  tokenBody?: 'json' | 'form';
  scopes: string[];
}

/** Paths inside the gateway container. */
export const GATEWAY_CONTAINER_PATHS = {
  confDir: '/etc/corral',
  settingsFile: 'gateway.json',
  caDir: '/etc/corral-ca',
  socketDir: '/run/corral/sock',
  socketFile: 'proxy.sock',
  logDir: '/var/log/corral',
  auditFile: 'audit.jsonl',
  /** In logDir: the revision of the settings the gateway serves now. */
  appliedFile: 'applied-revision',
  /** The host's login store (`<data>/auth`), read-write: the broker refreshes logins in place. */
  authDir: '/var/lib/corral/auth',
} as const;

/** Where a sandbox sees the socket folder, and the port its forwarder listens on. */
export const SANDBOX_GATEWAY_DIR = '/run/corral/gw';
export const SANDBOX_PROXY_PORT = 3128;
export const FORWARDER_FILE = 'forwarder.mjs';
/** The static relay (relay/, Go) that does the forwarder's work without Node, when the build has it. */
export const RELAY_FILE = 'corral-relay';
export const CA_PUBLIC_FILE = 'ca.crt';
/** Trust bundles the sandbox's start script assembles (system or host roots plus the gateway CA). */
export const SANDBOX_CA_BUNDLE = '/tmp/corral-ca.pem';
export const SANDBOX_NODE_CA = '/tmp/corral-node-ca.pem';

/** Held open by each running sandbox's forwarder (forwarder.ts --hold) and by the daemon. */
export const PRESENCE_PATH = '/corral/presence';
