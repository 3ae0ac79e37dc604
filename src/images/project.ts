/**
 * Image recipes for a project's own needs: a Containerfile that extends the agent image (corral
 * writes its FROM), and an agent layer installed onto a devcontainer's image instead of corral's
 * base. Pure functions of their inputs, so tags stay content hashes like every other layer.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { AgentSpec, Install } from '../agents/types.js';
import { isEmptyContainerfile } from '../config/project.js';
import { CorralError } from '../errors.js';
import {
  HOST_CA_PATH,
  type LayerRecipe,
  layer,
  type NodeTarballs,
  REPO,
  SANDBOX_HOME,
  SANDBOX_UID,
  SANDBOX_USER,
  shellQuote,
  WORKSPACE_DIR,
} from './recipes.js';

/** Files a project Containerfile may COPY live in `.corral/`, the whole of its build context. */
export const PROJECT_CONTEXT_DIR = '.corral';
const CONTEXT_LIMIT = 64 * 1024 * 1024;

async function contextFiles(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  let total = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    total += (await stat(path)).size;
    if (total > CONTEXT_LIMIT) {
      throw new CorralError(
        'IMAGE_BUILD_FAILED',
        `${dir} holds more than 64 MB; it is the project image's whole build context.`,
        'Keep only what the Containerfile COPYs in .corral/, and fetch the rest in a RUN step.',
      );
    }
    files[relative(dir, path)] = await readFile(path);
  }
  return files;
}

/**
 * The project layer: the user's Containerfile with corral's FROM on top. A FROM of its own would
 * silently replace the agent, so it is refused with the line that has it.
 */
export async function projectRecipe(
  parentTag: string,
  agent: AgentSpec,
  containerfilePath: string,
  workspace: { path: string; id: string },
): Promise<LayerRecipe | undefined> {
  const text = await readFile(containerfilePath, 'utf8');
  const lines = text.split('\n');
  // `corral init`'s starter is all comments: nothing to build until the user adds a step.
  if (isEmptyContainerfile(text)) return undefined;
  const from = lines.findIndex((l) => /^\s*FROM\s/i.test(l));
  if (from >= 0) {
    throw new CorralError(
      'CONFIG_INVALID',
      `${containerfilePath}:${from + 1}: remove this FROM line; corral fills in FROM with the ${agent.name} image.`,
      'A project Containerfile extends the agent image with RUN, COPY, ENV… steps (see `corral init`).',
    );
  }
  const containerfile = [
    `FROM ${parentTag}`,
    'USER root',
    ...lines,
    // Leave the image as the agent layer did, whatever USER or WORKDIR the project set last.
    'USER root',
    `WORKDIR ${WORKSPACE_DIR}`,
    '',
  ].join('\n');
  const files = await contextFiles(join(workspace.path, PROJECT_CONTEXT_DIR));
  // The Containerfile is already in the recipe; a copy inside the context would only add to the hash.
  delete files[basename(containerfilePath)];
  return layer('project', `${REPO}/project-${agent.name}`, containerfile, files, {
    'io.corral.agent': agent.name,
    'io.corral.workspace': workspace.id,
  });
}

const NODE_DIR = '/opt/corral/node';
const AGENT_PREFIX = '/opt/corral/agent';

/**
 * The agent installed onto a devcontainer image. The devcontainer's own Node (if any) stays first
 * on PATH for the project; the agent runs on corral's Node from /opt/corral through small launchers,
 * so an old Node in the image cannot break it. uid 1000 may already be the image's user (`node`,
 * `vscode`); it is reused, since the sandbox only needs the uid and a writable HOME.
 */
export function devAgentRecipe(
  devBase: string,
  agent: AgentSpec,
  install: Install,
  node: NodeTarballs,
  hostCa: Buffer | undefined,
): LayerRecipe {
  if (install.kind !== 'npm') {
    throw new CorralError(
      'CONFIG_INVALID',
      `${agent.displayName} is a Python package; corral installs only npm agents onto a devcontainer image.`,
      'Use corral’s own image for this agent (remove the devcontainer.json or run another agent).',
    );
  }
  const npm = `${NODE_DIR}/bin/node ${NODE_DIR}/lib/node_modules/npm/bin/npm-cli.js`;
  const launcher = `printf '#!/bin/sh\\nexec ${NODE_DIR}/bin/node %s "$@"\\n' "$t" > "/usr/local/bin/$n"`;
  const ca = hostCa
    ? [
        `COPY host-ca.pem ${HOST_CA_PATH}`,
        `RUN if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cat ${HOST_CA_PATH} >> /etc/ssl/certs/ca-certificates.crt; fi`,
        `ENV NODE_EXTRA_CA_CERTS=${HOST_CA_PATH}`,
      ]
    : [];
  const containerfile = [
    `FROM ${devBase}`,
    'USER root',
    ...ca,
    'COPY node.tgz npm.tgz /tmp/corral/',
    `RUN set -e; mkdir -p ${NODE_DIR}/bin ${NODE_DIR}/lib/node_modules/npm /tmp/corral/node \\`,
    '  && tar -xzf /tmp/corral/node.tgz -C /tmp/corral/node --strip-components=1 \\',
    `  && cp /tmp/corral/node/bin/node ${NODE_DIR}/bin/node && chmod 0755 ${NODE_DIR}/bin/node \\`,
    `  && tar -xzf /tmp/corral/npm.tgz -C ${NODE_DIR}/lib/node_modules/npm --strip-components=1 \\`,
    '  && rm -rf /tmp/corral \\',
    `  && (getent group ${SANDBOX_UID} >/dev/null || groupadd -g ${SANDBOX_UID} ${SANDBOX_USER}) \\`,
    `  && (getent passwd ${SANDBOX_UID} >/dev/null || useradd -u ${SANDBOX_UID} -g ${SANDBOX_UID} -M -d ${SANDBOX_HOME} -s /bin/sh ${SANDBOX_USER}) \\`,
    `  && mkdir -p ${SANDBOX_HOME} ${WORKSPACE_DIR} && chown ${SANDBOX_UID}:${SANDBOX_UID} ${WORKSPACE_DIR} && chmod 1777 ${SANDBOX_HOME}`,
    `RUN PATH=${NODE_DIR}/bin:$PATH ${npm} install -g --prefix ${AGENT_PREFIX} --no-audit --no-fund ${install.package}@${install.version} \\`,
    `  && PATH=${NODE_DIR}/bin:$PATH ${npm} cache clean --force \\`,
    `  && for b in ${AGENT_PREFIX}/bin/*; do n=$(basename "$b"); t=$(readlink -f "$b"); \\`,
    `       if head -c 100 "$t" | grep -q '^#!.*node'; then ${launcher} && chmod 0755 "/usr/local/bin/$n"; \\`,
    '       else ln -sf "$t" "/usr/local/bin/$n"; fi; done',
    `ENV HOME=${SANDBOX_HOME} LANG=C.UTF-8 TERM=xterm-256color NPM_CONFIG_UPDATE_NOTIFIER=false`,
    `USER ${SANDBOX_UID}:${SANDBOX_UID}`,
    `RUN HOME=$(mktemp -d) ${agent.versionCommand.map(shellQuote).join(' ')}`,
    'USER root',
    `WORKDIR ${WORKSPACE_DIR}`,
    '',
  ].join('\n');
  return layer(
    'devcontainer-agent',
    `${REPO}/dev-${agent.name}`,
    containerfile,
    { 'node.tgz': node.node, 'npm.tgz': node.npm, ...(hostCa ? { 'host-ca.pem': hostCa } : {}) },
    { 'io.corral.agent': agent.name, 'io.corral.agent-version': install.version },
  );
}
