/**
 * `--dry-run`: the podman/docker commands that do what corral would do, runnable by hand. Secret
 * values are not printed: variables whose names look secret are passed by name (`-e KEY`), so
 * the shell that runs the commands must have them set.
 */
import { maps, runCommand, secretNames, shellQuote } from '../engine/command-line.js';
import type { ContainerSpec, EngineKind } from '../engine/index.js';
import { SANDBOX_UID } from '../images/recipes.js';
import { homeVolumeLabels, homeVolumeName, LABELS } from '../workspace/identity.js';
import type { HostUser } from '../workspace/userns.js';
import { maskVolumeName } from './masks.js';
import { type SandboxSpec, toContainerSpec } from './spec.js';

export interface DryRunInput {
  engine: EngineKind;
  spec: ContainerSpec;
  /** Volumes corral creates if missing (name → labels). */
  volumes: Record<string, Record<string, string>>;
  /** Docker as root: the ACL grant and hand-back corral does around the session. */
  reclaim?: { workspace: string; to: HostUser };
  /** Env names that look secret but whose values may be printed (the gateway's placeholders). */
  printable?: string[];
}

export { runCommand };

export function dryRunCommands(d: DryRunInput): string[] {
  const bin = d.engine;
  const s = d.spec;
  const lines: string[] = [];
  const secrets = secretNames(s, d.printable);
  if (secrets.length)
    lines.push(`# needs ${secrets.join(', ')} set in this shell (corral does not print secret values)`);
  for (const [name, labels] of Object.entries(d.volumes)) {
    const l = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const exists =
      bin === 'podman' ? `podman volume exists ${name}` : `docker volume inspect ${name} >/dev/null 2>&1`;
    lines.push(`${exists} || ${[bin, 'volume', 'create', ...l, name].map(shellQuote).join(' ')}`);
  }
  if (d.reclaim) {
    const ws = shellQuote(d.reclaim.workspace);
    lines.push(`setfacl -R -m u:${SANDBOX_UID}:rwX -m d:u:${SANDBOX_UID}:rwX ${ws}`);
  }
  lines.push(runCommand(bin, s, d.printable ? { printable: d.printable } : {}));
  if (d.reclaim) {
    const ws = shellQuote(d.reclaim.workspace);
    lines.push(
      `find ${ws} -uid ${SANDBOX_UID} -exec chown -h ${d.reclaim.to.uid}:${d.reclaim.to.gid} {} +`,
      `setfacl -R -b ${ws}`,
    );
  }
  return lines;
}

/** The dry-run commands for a planned sandbox (home volume, masks, the run itself). */
export function dryRunFor(engine: EngineKind, sandbox: SandboxSpec): string[] {
  const spec = toContainerSpec(sandbox);
  const volumes: Record<string, Record<string, string>> = {
    [homeVolumeName(sandbox.workspace, sandbox.agent, sandbox.profile)]: homeVolumeLabels(
      sandbox.workspace,
      sandbox.agent,
      sandbox.profile,
    ),
  };
  // Behind the gateway, keys in the env are placeholders: nothing secret, and the sandbox needs them.
  const printable = Object.keys(sandbox.env).filter((k) =>
    sandbox.credentials.some((c) => c.placeholder === sandbox.env[k]),
  );
  const lines = dryRunCommands({
    engine,
    spec,
    volumes,
    printable,
    ...(sandbox.user.reclaimTo
      ? { reclaim: { workspace: sandbox.workspace.path, to: sandbox.user.reclaimTo } }
      : {}),
  });
  if (!sandbox.masks.length) return lines;
  // Mask volumes belong to the sandbox user: created and handed over once, before the run.
  const masks = sandbox.masks.map((d) => maskVolumeName(sandbox.workspace, d));
  const maskLabels = {
    [LABELS.managed]: 'true',
    [LABELS.workspace]: sandbox.workspace.id,
    [LABELS.role]: 'mask',
  };
  const helper = [
    engine,
    'run',
    '--rm',
    '--user',
    '0:0',
    '--cap-drop',
    'ALL',
    '--cap-add',
    'CHOWN',
    ...(spec.idMappings
      ? [...maps('--uidmap', spec.idMappings.uid), ...maps('--gidmap', spec.idMappings.gid)]
      : []),
    ...masks.flatMap((v, i) => ['-v', `${v}:/m/${i}`]),
    spec.image,
    'chown',
    spec.user,
    ...masks.map((_, i) => `/m/${i}`),
  ];
  const create = masks.map((m) =>
    [
      engine,
      'volume',
      'create',
      ...Object.entries(maskLabels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      m,
    ]
      .map(shellQuote)
      .join(' '),
  );
  const mkdirs = sandbox.masks.map((d) => `mkdir -p ${shellQuote(`${sandbox.workspace.path}/${d}`)}`);
  return [...mkdirs, ...create, helper.map(shellQuote).join(' '), ...lines];
}
