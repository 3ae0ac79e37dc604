/**
 * The environments of what the bridge starts on the host. corral runs with the user's whole
 * environment (API keys, tokens, its own CORRAL_* settings); nothing the agent can make the host
 * run may see it. Host commands get a short allowlist plus the names the user lists under
 * `bridge.env` in the global config; the detached bridge process gets what corral itself needs to
 * reach the engine, its data and the desktop, and nothing else.
 */
import { AGENTS } from '../agents/index.js';
import { configError } from '../config/errors.js';
import { defaultConfigPath, readConfigFile } from '../config/load.js';
import { BridgeSchema, type BridgeSettings } from '../config/schema.js';

/** What a build or test needs to find its tools and speak the user's language. */
const BASE = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'TZ',
  'TMPDIR',
];
const LOCALE = /^LC_[A-Z]+$/;

/** The bridge process also reaches the engine, its data folders, the desktop and the host CA. */
const DAEMON = [
  'DOCKER_HOST',
  'CONTAINER_HOST',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'DBUS_SESSION_BUS_ADDRESS',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];
const DAEMON_PREFIX = /^(XDG_[A-Z_]+|CORRAL_[A-Z0-9_]+)$/;

/** Every credential variable an agent reads: corral holds these, so nothing on the host gets them. */
export const HELD_KEYS: ReadonlySet<string> = new Set(
  AGENTS.flatMap((a) => [...a.authEnv, ...a.injectable.map((i) => i.env)]),
);

const pick = (from: NodeJS.ProcessEnv, keep: (name: string) => boolean): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(from).filter(([k, v]) => v !== undefined && !HELD_KEYS.has(k) && keep(k)),
  );

/** The environment of a host command: the allowlist and `bridge.env`, never CORRAL_* or a held key. */
export function hostCommandEnv(
  extra: readonly string[],
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const names = new Set([...BASE, ...extra]);
  return pick(from, (k) => !k.startsWith('CORRAL_') && (names.has(k) || LOCALE.test(k)));
}

/** The detached bridge process's environment: what it needs, and `bridge.env` to pass on. */
export function bridgeDaemonEnv(
  extra: readonly string[],
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const names = new Set([...BASE, ...DAEMON, ...extra]);
  return pick(from, (k) => names.has(k) || LOCALE.test(k) || DAEMON_PREFIX.test(k));
}

/** `bridge:` of the global config (never the project's), validated; defaults when absent. */
export async function bridgeSettings(env: NodeJS.ProcessEnv = process.env): Promise<BridgeSettings> {
  const path = defaultConfigPath(env);
  const file = await readConfigFile(path);
  const parsed = BridgeSchema.safeParse(file.bridge ?? {});
  if (!parsed.success) {
    // Reported with the key's full path, as for any other config error.
    const { z } = await import('zod');
    throw configError(
      path,
      z.strictObject({ bridge: BridgeSchema }),
      parsed.error.issues.length
        ? new z.ZodError(parsed.error.issues.map((i) => ({ ...i, path: ['bridge', ...i.path] })))
        : parsed.error,
    );
  }
  return parsed.data;
}
