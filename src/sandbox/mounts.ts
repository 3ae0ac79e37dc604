/**
 * Extra host paths in the sandbox (`mounts:` / `--mount HOST[:SANDBOX][:rw]`). Read-only unless
 * `:rw`; refused outright for `/`, the home folder itself and engine sockets, and for credential
 * stores (~/.ssh, ~/.aws, …) unless the user says, with --allow-sensitive-mounts, that the agent
 * may see them.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { Mount } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { SANDBOX_HOME, WORKSPACE_DIR } from '../images/recipes.js';

const SENSITIVE = [
  '.ssh',
  '.aws',
  '.config/gcloud',
  '.gnupg',
  '.kube',
  '.docker',
  '.azure',
  '.config/gh',
  '.netrc',
  '.git-credentials',
  '.password-store',
];
const SOCKETS = [
  '/run/podman',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run/podman',
  '/run/containerd',
  '/run/user',
];

const within = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

export interface MountContext {
  workspace: string;
  home?: string;
  allowSensitive?: boolean;
}

export function parseMount(spec: string, ctx: MountContext): Mount {
  const home = ctx.home ?? homedir();
  const parts = spec.split(':');
  const mode = parts.at(-1) === 'rw' || parts.at(-1) === 'ro' ? parts.pop() : undefined;
  if (parts.length > 2 || !parts[0]) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid mount "${spec}".`,
      'Use HOST[:SANDBOX][:rw], e.g. ~/data:/data or ../shared:/shared:rw.',
    );
  }
  const expanded = parts[0].replace(/^~(?=$|\/)/, home);
  let source: string;
  try {
    source = realpathSync(resolve(ctx.workspace, expanded));
  } catch {
    throw new CorralError(
      'BAD_INPUT',
      `Mount source ${parts[0]} does not exist.`,
      'Create it or fix the path.',
    );
  }
  const target = parts[1] ?? source;
  if (!isAbsolute(target))
    throw new CorralError('BAD_INPUT', `Mount target "${target}" in "${spec}" must be an absolute path.`);
  const realHome = (() => {
    try {
      return realpathSync(home);
    } catch {
      return home;
    }
  })();
  if (source === '/' || source === realHome) {
    throw new CorralError(
      'BAD_INPUT',
      `Refusing to mount ${source}: that is ${source === '/' ? 'the whole host' : 'your whole home folder'}.`,
      'Mount the folder the agent needs.',
    );
  }
  if (SOCKETS.some((s) => within(source, s) || within(s, source))) {
    throw new CorralError(
      'BAD_INPUT',
      `Refusing to mount ${source}: it gives the agent control of the container engine or your session.`,
    );
  }
  const secret = SENSITIVE.map((d) => join(realHome, d)).find((d) => within(source, d) || within(d, source));
  if (secret && !ctx.allowSensitive) {
    throw new CorralError(
      'BAD_INPUT',
      `Refusing to mount ${source}: it ${within(source, secret) ? 'is inside' : 'contains'} ${secret}, where credentials live.`,
      'If the agent really needs it, add --allow-sensitive-mounts: that exposes those credentials to the agent.',
    );
  }
  if ([WORKSPACE_DIR, SANDBOX_HOME, '/'].some((t) => within(target, t) && (t !== '/' || target === '/'))) {
    throw new CorralError(
      'BAD_INPUT',
      `Mount target ${target} would shadow the sandbox's ${target === '/' ? 'root' : 'workspace or home'}.`,
      'Pick another path, e.g. /mnt/data.',
    );
  }
  return { type: 'bind', source, target, readOnly: mode !== 'rw' };
}
