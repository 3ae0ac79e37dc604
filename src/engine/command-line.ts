/**
 * The podman/docker command line for a ContainerSpec (what `--dry-run` prints): engine-specific
 * rendering, so it lives beside the engine, below every capability that prints commands (the
 * sandbox's and the gateway's dry runs). Secret values are not printed: variables whose names look
 * secret are passed by name (`-e KEY`).
 */
import { runtimeArgs } from './runtimes.js';
import type { ContainerSpec, EngineKind, IdMapping } from './types.js';

/** One argument for a POSIX shell, quoted only when it needs to be. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH/i;

export const maps = (flag: string, ms: IdMapping[]) =>
  ms.flatMap((m) => [flag, `${m.containerId}:${m.hostId}:${m.size}`]);

/** `<engine> run …` for a container spec; secret-looking env passes by name only. */
export function runCommand(
  bin: EngineKind,
  s: ContainerSpec,
  opts: { detach?: boolean; printable?: string[] } = {},
): string {
  const secrets = secretNames(s, opts.printable);
  const args: string[] = opts.detach
    ? [bin, 'run', '-d', ...(s.autoRemove ? ['--rm'] : []), '--name', s.name]
    : [bin, 'run', '--rm', '--name', s.name, '--init'];
  if (s.openStdin) args.push('-i');
  if (s.tty) args.push('-t');
  args.push(...runtimeArgs(bin, s.isolation, s.network));
  args.push('--user', s.user, '-w', s.workdir);
  if (s.idMappings) args.push(...maps('--uidmap', s.idMappings.uid), ...maps('--gidmap', s.idMappings.gid));
  if (s.keepId) args.push('--userns', `keep-id:uid=${s.keepId.uid},gid=${s.keepId.gid}`);
  for (const c of s.capDrop) args.push('--cap-drop', c);
  for (const c of s.capAdd ?? []) args.push('--cap-add', c);
  if (s.noNewPrivileges) args.push('--security-opt', 'no-new-privileges');
  if (s.pidsLimit) args.push('--pids-limit', String(s.pidsLimit));
  if (s.memoryBytes) args.push('--memory', String(s.memoryBytes));
  for (const m of s.mounts) args.push('-v', `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
  for (const p of s.ports ?? []) args.push('-p', `${p.hostIp}:${p.hostPort}:${p.containerPort}`);
  for (const h of s.extraHosts ?? []) args.push('--add-host', h);
  if (s.network) args.push('--network', s.network);
  for (const [k, v] of Object.entries(s.sysctls ?? {})) args.push('--sysctl', `${k}=${v}`);
  for (const [k, v] of Object.entries(s.labels)) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(s.env)) args.push('-e', secrets.includes(k) ? k : `${k}=${v}`);
  args.push(s.image, ...s.cmd);
  return args.map(shellQuote).join(' ');
}

export const secretNames = (s: ContainerSpec, printable: string[] = []) =>
  Object.keys(s.env).filter((k) => SECRET_NAME.test(k) && !printable.includes(k));
