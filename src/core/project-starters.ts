/** The commented starters `corral init` writes: a project's `.corral.yaml` and image extension. */

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
