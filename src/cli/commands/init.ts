/** `corral init`: commented starters for a project's `.corral.yaml` and image extension. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { resolveAgent } from '../../agents/index.js';
import { CONTAINERFILES } from '../../config/project.js';
import { PROJECT_FILE } from '../../config/trust.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';

export function starterConfig(agent?: string): string {
  return `# corral project config (the README lists every key; \`corral config show --origin\` shows the result).
# Settings that widen the sandbox (mounts, host env copies, egress, services, a custom image)
# take effect only after you review this file and run \`corral trust\` here.

${agent ? `default_agent: ${agent}` : '# default_agent: claude'}

# Folders shadowed by a per-workspace volume, so the sandbox's build output stays out of yours.
# masks: [node_modules]

# Sandbox ports published on 127.0.0.1.
# ports: [3000]

# env:
#   NODE_ENV: development

# egress:
#   preset: agent        # agent | dev (adds package registries and git hosts) | open | none
#   allow: [api.example.com]

# agents:
#   claude:
#     yolo: true
#     init: ["npm ci"]
`;
}

export const STARTER_CONTAINERFILE = `# Extends the agent image for this project. corral writes the FROM line; add steps below.
# Files to COPY go in .corral/ (this folder is the build context). Runs as root.
# The image is rebuilt only when this file or .corral/ changes; \`corral trust\` must cover it.
#
# RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3 \\
#  && rm -rf /var/lib/apt/lists/*
# COPY tools.sh /usr/local/bin/tools.sh
# ENV MY_TOOL_HOME=/opt/my-tool
`;

export function initCommand(): Command {
  return new Command('init')
    .description(`write commented starters: ${PROJECT_FILE} and ${CONTAINERFILES[1]} (image extension)`)
    .argument('[dir]', 'workspace folder (default: the current folder)')
    .option('-a, --agent <name>', 'set default_agent')
    .option('--force', 'overwrite files that exist')
    .action(async (dir: string | undefined, opts: { agent?: string; force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = await resolveWorkspace(dir ?? process.cwd());
      const agent = opts.agent ? resolveAgent(opts.agent).name : undefined;
      const existing = CONTAINERFILES.find((f) => existsSync(join(ws.path, f)));
      const files: [string, string][] = [
        [PROJECT_FILE, starterConfig(agent)],
        [existing ?? CONTAINERFILES[1]!, STARTER_CONTAINERFILE],
      ];
      for (const [name, text] of files) {
        const path = join(ws.path, name);
        if (existsSync(path) && !opts.force) {
          ctx.note(`kept ${name} (exists; --force overwrites)`);
          continue;
        }
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, text);
        ctx.note(`wrote ${name}`);
      }
      ctx.note('Review them, then run `corral trust` so corral honours what widens the sandbox.');
    });
}
