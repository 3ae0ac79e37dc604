/**
 * Podman's default seccomp profile lets a container create user namespaces (`clone`, `clone3` and
 * `unshare` are allowed whatever their flags, for nested rootless Podman). Inside a user namespace
 * the sandbox user gets a full set of capabilities over it, which turns every kernel bug reachable
 * from there into an escape path. Docker's default profile refuses it without CAP_SYS_ADMIN; this
 * derives the same from Podman's own default (so new syscalls it allows stay allowed) and caches it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { CorralError } from '../errors.js';

/** Where Podman (containers-common) keeps its default profile; /etc overrides /usr/share. */
export const PODMAN_DEFAULT_PROFILES = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'];

const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

interface Rule {
  names: string[];
  action: string;
  args?: { index: number; value: number; valueTwo: number; op: string }[] | null;
  includes?: Record<string, unknown>;
  errnoRet?: number;
  [k: string]: unknown;
}

/** The profile without user namespaces: what Docker's default does for a container without CAP_SYS_ADMIN. */
export function withoutUserNamespaces(profile: { syscalls: Rule[]; [k: string]: unknown }): object {
  const gated = new Set(['clone', 'clone3', 'unshare']);
  const syscalls = profile.syscalls
    .map((r) => (r.action === 'SCMP_ACT_ALLOW' ? { ...r, names: r.names.filter((n) => !gated.has(n)) } : r))
    .filter((r) => r.names.length > 0);
  const flags = (valueTwo: number) => [
    { index: 0, value: CLONE_NEWUSER, valueTwo, op: 'SCMP_CMP_MASKED_EQ' },
  ];
  syscalls.push(
    { names: ['clone', 'unshare'], action: 'SCMP_ACT_ALLOW', args: flags(0) },
    { names: ['clone', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: flags(CLONE_NEWUSER) },
    // clone3 passes its flags in memory, out of seccomp's reach: ENOSYS makes libc fall back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
  );
  return { ...profile, syscalls };
}

/**
 * gVisor's `--oci-seccomp` (2022 runsc) mis-applies the engines' full default profiles: Node aborts
 * (clone3's errnoRet is answered as EPERM, so glibc never falls back to clone) and an interactive
 * bash reads EOF and logs out at once. Under gVisor the host kernel sees only the Sentry's own
 * syscalls, behind gVisor's own strict filter; what the container's profile adds inside is the
 * runc parity that matters here: no nested user namespaces. So gVisor gets exactly that rule.
 * (clone3 stays allowed: gVisor's kernel does not implement it and answers ENOSYS itself.)
 */
export function gvisorProfile(): object {
  const flags = (valueTwo: number) => [
    { index: 0, value: CLONE_NEWUSER, valueTwo, op: 'SCMP_CMP_MASKED_EQ' },
  ];
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['clone', 'unshare'], action: 'SCMP_ACT_ALLOW', args: flags(0) },
      { names: ['clone', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: flags(CLONE_NEWUSER) },
    ],
  };
}

const cached = new Map<string, Promise<string>>();

/** The path of the profile for a runtime (written once per content into corral's cache). */
export function noUserNamespaceProfile(runtime: 'runc' | 'gvisor' = 'runc'): Promise<string> {
  let p = cached.get(runtime);
  if (p) return p;
  p = (async () => {
    if (runtime === 'gvisor') return writeProfile(JSON.stringify(gvisorProfile()));
    const source = PODMAN_DEFAULT_PROFILES.find((p) => existsSync(p));
    if (!source) {
      throw new CorralError(
        'ENGINE_ERROR',
        `Podman's default seccomp profile is missing (looked in ${PODMAN_DEFAULT_PROFILES.join(', ')}).`,
        'Reinstall containers-common (`apt-get install --reinstall golang-github-containers-common`).',
      );
    }
    return writeProfile(JSON.stringify(withoutUserNamespaces(JSON.parse(readFileSync(source, 'utf8')))));
  })();
  cached.set(runtime, p);
  p.catch(() => cached.delete(runtime));
  return p;
}

async function writeProfile(text: string): Promise<string> {
  const dir = join(process.env.CORRAL_CACHE_DIR ?? envPaths('corral', { suffix: '' }).cache, 'seccomp');
  const path = join(dir, `no-userns-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  if (!existsSync(path)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  }
  return path;
}
