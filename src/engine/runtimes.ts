/**
 * Isolation levels, and the one place each becomes an engine's OCI runtime.
 *
 * - runc: the engine's default runtime (namespaces, cgroups, seccomp, dropped capabilities).
 * - gvisor: gVisor's `runsc`. The agent's syscalls are served by gVisor's user-space kernel (the
 *   Sentry) instead of the host kernel. Its flags, on both engines:
 *   - `--network=host`: gVisor's own netstack fails on these VMs; with `host` it uses the
 *     container's own network namespace (the engine's bridge, internal or `none` network), so the
 *     engine's network isolation still applies.
 *   - `--host-uds=all`: corral's sandbox reaches its gateway, bridge and services through Unix
 *     sockets in bind-mounted folders, and serves published ports on sockets it creates there.
 *     gVisor refuses host sockets by default; runc allows exactly this, so this keeps parity.
 *   - `--oci-seccomp`: apply the container's seccomp profile inside the sandbox too, so what runc
 *     refuses (nested user namespaces) stays refused under gVisor.
 *   A Podman container without a network (`none`) gets `--network=none` instead: Podman leaves the
 *   loopback of such a namespace down and runsc does not bring it up (ENETUNREACH even to
 *   127.0.0.1, where the sandbox's forwarder listens), so gVisor's own loopback-only stack serves it.
 *   Docker brings that loopback up itself, so one registered runtime serves both there.
 *
 * A microVM level (Kata, Firecracker) would be one more entry here: its runtime binary and flags.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { CorralError } from '../errors.js';

import type { Isolation } from './isolation.js';
import type { EngineKind } from './types.js';

interface RuntimeDef {
  /** Shown in errors and `corral doctor`. */
  label: string;
  /** The runtime binary (env override for installs outside /usr/bin). */
  binary: () => string;
  flags: string[];
  /** The name Docker knows it by, registered in /etc/docker/daemon.json `runtimes`. */
  dockerName: string;
  setupHint: string;
}

export const GVISOR_FLAGS = ['--network=host', '--host-uds=all', '--oci-seccomp'];

/** The name corral registers runsc under in Docker (its own flags; a user's plain `runsc` lacks them). */
export const DOCKER_GVISOR_RUNTIME = 'corral-runsc';

const RUNTIMES: Record<Exclude<Isolation, 'runc'>, RuntimeDef> = {
  gvisor: {
    label: 'gVisor (runsc)',
    binary: () => process.env.CORRAL_RUNSC ?? '/usr/bin/runsc',
    flags: GVISOR_FLAGS,
    dockerName: DOCKER_GVISOR_RUNTIME,
    setupHint:
      'Install it with scripts/setup (or `apt-get install runsc`; for Docker also register it: see the README, "Isolation levels"), or use --isolation runc.',
  },
};

export function runtimeDef(isolation: Isolation): RuntimeDef | undefined {
  return isolation === 'runc' ? undefined : RUNTIMES[isolation];
}

/** The Docker runtime name for an isolation level (undefined: the engine's default). */
export function dockerRuntime(isolation: Isolation | undefined): string | undefined {
  return isolation ? runtimeDef(isolation)?.dockerName : undefined;
}

/** The runtime's flags on Podman, for a container with this network (see the header). */
function podmanFlags(def: RuntimeDef, network: string | undefined): string[] {
  return network === 'none'
    ? def.flags.map((f) => (f === '--network=host' ? '--network=none' : f))
    : def.flags;
}

/** The runtime's argv as a CLI user would pass it (`--dry-run`), per engine. */
export function runtimeArgs(
  engine: EngineKind,
  isolation: Isolation | undefined,
  network?: string,
): string[] {
  const def = isolation ? runtimeDef(isolation) : undefined;
  // Kubernetes would take a RuntimeClass; not offered there yet (the pod renderer ignores it).
  if (!def || engine === 'kubernetes') return [];
  if (engine === 'docker') return ['--runtime', def.dockerName];
  return [
    '--runtime',
    def.binary(),
    ...podmanFlags(def, network).flatMap((f) => ['--runtime-flag', f.replace(/^--/, '')]),
  ];
}

export function runtimeMissing(isolation: Isolation, detail: string): CorralError {
  const def = runtimeDef(isolation);
  return new CorralError(
    'ENGINE_ERROR',
    `--isolation ${isolation} needs ${def?.label ?? isolation}, and ${detail}.`,
    def?.setupHint,
  );
}

/** Docker's create error for a runtime it does not know, as corral's error. */
export function dockerRuntimeError(
  isolation: Isolation | undefined,
  message: string,
): CorralError | undefined {
  if (!isolation || !/unknown runtime/i.test(message)) return undefined;
  return runtimeMissing(
    isolation,
    `Docker has no runtime named ${dockerRuntime(isolation)} (in /etc/docker/daemon.json "runtimes")`,
  );
}

const written = new Map<string, Promise<string>>();

/**
 * Podman's API takes a runtime per container (`oci_runtime`, a name or a path) but runtime flags
 * only for the whole service. So the flags travel in a two-line wrapper that execs runsc with them,
 * written once per content into corral's cache. It is named `runsc` so Podman treats it as runsc.
 */
export function podmanRuntimePath(
  isolation: Isolation | undefined,
  network: string | undefined,
): Promise<string> | undefined {
  const def = isolation ? runtimeDef(isolation) : undefined;
  if (!def) return undefined;
  const binary = def.binary();
  if (!existsSync(binary)) return Promise.reject(runtimeMissing(isolation!, `${binary} is not installed`));
  const text = `#!/bin/sh\nexec ${binary} ${podmanFlags(def, network).join(' ')} "$@"\n`;
  let path = written.get(text);
  if (path) return path;
  path = (async () => {
    const dir = join(
      process.env.CORRAL_CACHE_DIR ?? envPaths('corral', { suffix: '' }).cache,
      'runtimes',
      createHash('sha256').update(text).digest('hex').slice(0, 16),
    );
    const file = join(dir, 'runsc');
    if (!existsSync(file)) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await chmod(tmp, 0o755);
      await rename(tmp, file);
    }
    return file;
  })();
  written.set(text, path);
  path.catch(() => written.delete(text));
  return path;
}
